/// The pages' one stylesheet, served from `/static/aces.css`. Colours meet WCAG AA contrast;
/// layout works from 320 px phones up; no web fonts, no scripts.
enum Stylesheet {
    static let css = """
        :root {
          --ink: #1b2330; --muted: #4a5565; --line: #d9dee7; --paper: #ffffff; --wash: #f4f6fa;
          --brand: #1f3f8f; --brand-ink: #ffffff; --accent: #b4233c; --focus: #f2b705;
          --radius: 10px; --shadow: 0 1px 2px rgba(16, 24, 40, .06), 0 1px 3px rgba(16, 24, 40, .10);
        }
        * { box-sizing: border-box; }
        html { -webkit-text-size-adjust: 100%; }
        body { margin: 0; font: 16px/1.55 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
          color: var(--ink); background: var(--wash); }
        a { color: var(--brand); text-underline-offset: 2px; }
        a:hover { color: #142c66; }
        :focus-visible { outline: 3px solid var(--focus); outline-offset: 2px; }
        .wrap { max-width: 72rem; margin: 0 auto; padding: 0 1.25rem; }
        .skip { position: absolute; left: -999px; top: 0; background: var(--paper); padding: .5rem 1rem; }
        .skip:focus { left: 1rem; z-index: 10; }
        .visually-hidden { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
        header.site { background: var(--brand); color: var(--brand-ink); }
        header.site .bar { display: flex; flex-wrap: wrap; align-items: center; gap: .75rem 2rem; padding-top: .9rem; padding-bottom: .9rem; }
        header.site a { color: var(--brand-ink); text-decoration: none; }
        .brand { display: flex; align-items: center; gap: .75rem; }
        .mark { display: inline-grid; place-items: center; width: 2.4rem; height: 2.4rem; border-radius: 8px;
          background: var(--brand-ink); color: var(--brand); font-weight: 800; font-size: 1.3rem; }
        .brand-text { display: flex; flex-direction: column; line-height: 1.2; }
        .brand-text strong { font-size: 1.2rem; letter-spacing: .02em; }
        .brand-text small { font-size: .8rem; opacity: .9; }
        header.site nav { display: flex; gap: 1.25rem; flex: 1; }
        header.site nav a { padding: .35rem 0; border-bottom: 3px solid transparent; font-weight: 600; }
        header.site nav a[aria-current] { border-bottom-color: var(--brand-ink); }
        .tools { display: flex; align-items: center; gap: 1rem; font-size: .9rem; }
        .tools .lang { border: 1px solid rgba(255,255,255,.6); border-radius: 999px; padding: .2rem .75rem; }
        .signout { display: flex; align-items: center; gap: .5rem; margin: 0; }
        button.link { background: none; border: 0; color: inherit; text-decoration: underline; cursor: pointer; font: inherit; padding: 0; }
        main.wrap { padding-top: 2rem; padding-bottom: 3rem; min-height: 60vh; }
        h1 { font-size: 1.9rem; line-height: 1.2; margin: 0 0 1.25rem; }
        h2 { font-size: 1.15rem; }
        form.search fieldset { border: 0; margin: 0; padding: 1.25rem; background: var(--paper); border-radius: var(--radius);
          box-shadow: var(--shadow); display: grid; grid-template-columns: 1fr; gap: 1rem; }
        @media (min-width: 48rem) { form.search fieldset { grid-template-columns: 2fr 1fr 1fr auto; align-items: end; } }
        .field { display: flex; flex-direction: column; gap: .3rem; }
        .field label { font-weight: 600; font-size: .92rem; }
        .field small { color: var(--muted); font-size: .8rem; }
        input, select { font: inherit; padding: .55rem .7rem; border: 1px solid #8a94a6; border-radius: 8px; background: var(--paper); color: var(--ink); min-height: 2.6rem; }
        button, .button { display: inline-block; font: inherit; font-weight: 600; background: var(--brand); color: var(--brand-ink); border: 0;
          border-radius: 8px; padding: .6rem 1.1rem; cursor: pointer; text-decoration: none; min-height: 2.6rem; }
        .button:hover, button:hover { background: #142c66; color: var(--brand-ink); }
        .actions { display: flex; align-items: center; gap: .75rem; padding-bottom: 1.3rem; }
        .hint { color: var(--muted); font-size: .9rem; margin: .75rem 0 0; }
        .count { color: var(--muted); margin: 1.25rem 0 .75rem; font-weight: 600; }
        .empty { background: var(--paper); padding: 1.5rem; border-radius: var(--radius); box-shadow: var(--shadow); }
        ul.cards { list-style: none; margin: 0; padding: 0; display: grid; gap: 1rem; grid-template-columns: repeat(auto-fill, minmax(16rem, 1fr)); }
        .card { background: var(--paper); border-radius: var(--radius); box-shadow: var(--shadow); padding: 1rem 1.1rem; border-top: 4px solid var(--brand); }
        .card h2 { margin: 0 0 .25rem; font-size: 1.1rem; }
        .card h2 a { text-decoration: none; }
        .card h2 a:hover { text-decoration: underline; }
        .role { margin: 0 0 .5rem; color: var(--ink); }
        .meta { margin: 0; color: var(--muted); font-size: .9rem; display: flex; flex-wrap: wrap; gap: .35rem .75rem; align-items: center; }
        .chip { display: inline-block; background: #e6ebf5; color: #1f3f8f; border-radius: 999px; padding: .05rem .6rem; font-size: .8rem; font-weight: 600; }
        .badge { display: inline-block; border-radius: 999px; padding: .1rem .6rem; font-size: .8rem; font-weight: 700; background: rgba(255,255,255,.2); }
        .badge.cancelled { background: #fbe9ec; color: var(--accent); margin: 0 0 .5rem; }
        .pager { display: flex; justify-content: space-between; align-items: center; margin-top: 1.5rem; }
        .back { margin: 0 0 1rem; }
        .profile, .event-page, .notice { background: var(--paper); border-radius: var(--radius); box-shadow: var(--shadow); padding: 1.5rem; max-width: 48rem; }
        .scope { color: var(--muted); font-size: .9rem; margin: -.75rem 0 1rem; }
        dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: .5rem 1.25rem; margin: 0 0 1.25rem; }
        dl.facts dt { font-weight: 600; color: var(--muted); }
        dl.facts dd { margin: 0; }
        ul.links { margin: 0; padding: 0; list-style: none; }
        .bio h2 { margin-bottom: .25rem; }
        .filters { display: flex; flex-wrap: wrap; gap: .5rem; margin-bottom: 1.5rem; }
        .filters a { background: var(--paper); border: 1px solid var(--line); border-radius: 999px; padding: .3rem .9rem; text-decoration: none; }
        .filters a[aria-current] { background: var(--brand); color: var(--brand-ink); border-color: var(--brand); }
        .month h2 { border-bottom: 2px solid var(--line); padding-bottom: .35rem; margin-top: 2rem; }
        ol.events { list-style: none; margin: 0; padding: 0; display: grid; gap: .75rem; }
        .event { display: flex; gap: 1rem; background: var(--paper); border-radius: var(--radius); box-shadow: var(--shadow); padding: .9rem 1rem; }
        .event .date { flex: none; width: 3.5rem; text-align: center; background: #e6ebf5; border-radius: 8px; padding: .35rem 0; color: var(--brand); }
        .event .day { display: block; font-size: 1.5rem; font-weight: 800; line-height: 1.1; }
        .event .dow { display: block; font-size: .75rem; text-transform: uppercase; font-weight: 700; }
        .event h3 { margin: 0 0 .2rem; font-size: 1.05rem; }
        .is-cancelled h3 a, .is-cancelled h1 { text-decoration: line-through; text-decoration-thickness: 2px; }
        .is-cancelled .date { background: #fbe9ec; color: var(--accent); }
        .subscribe { margin-top: 2.5rem; background: var(--paper); border-left: 4px solid var(--brand); border-radius: var(--radius); padding: 1rem 1.25rem; box-shadow: var(--shadow); }
        .subscribe code { word-break: break-all; background: var(--wash); padding: .15rem .4rem; border-radius: 4px; }
        .table-wrap { overflow-x: auto; background: var(--paper); border-radius: var(--radius); box-shadow: var(--shadow); }
        table.health { border-collapse: collapse; width: 100%; font-size: .95rem; }
        table.health th, table.health td { text-align: left; padding: .6rem .8rem; border-bottom: 1px solid var(--line); vertical-align: top; }
        table.health thead th { background: var(--wash); font-size: .85rem; color: var(--muted); }
        .badge.ok { background: #e3f4ea; color: #17643a; }
        .tools .me { font-weight: 600; }
        .panel { background: var(--paper); border-radius: var(--radius); box-shadow: var(--shadow); padding: 1.5rem; max-width: 48rem; margin: 0 0 1.25rem; }
        .panel h2 { margin-top: 0; }
        .panel.more { padding: 1rem 1.5rem; }
        .lead { color: var(--muted); margin: -.5rem 0 1.25rem; max-width: 44rem; }
        .muted { color: var(--muted); font-size: .85rem; }
        .alert { border-left: 4px solid var(--accent); background: #fbe9ec; border-radius: 8px; padding: .75rem 1rem; margin: 0 0 1.25rem; }
        .alert.ok { border-left-color: #17643a; background: #e3f4ea; }
        .profile-form { display: grid; gap: 1rem; }
        .profile-form .grid { display: grid; gap: 1rem; grid-template-columns: 1fr; }
        @media (min-width: 40rem) { .profile-form .grid { grid-template-columns: 1fr 1fr; } }
        .profile-form .hint { margin: 0; }
        textarea { font: inherit; padding: .55rem .7rem; border: 1px solid #8a94a6; border-radius: 8px; background: var(--paper); color: var(--ink); width: 100%; resize: vertical; }
        input[aria-invalid] { border-color: var(--accent); border-width: 2px; }
        fieldset.choices { border: 1px solid var(--line); border-radius: 8px; padding: .75rem 1rem; margin: 0; display: flex; flex-wrap: wrap; gap: .5rem 1.5rem; }
        fieldset.choices legend { font-weight: 600; font-size: .92rem; padding: 0 .25rem; }
        .choice { display: inline-flex; align-items: center; gap: .45rem; font-weight: 400; }
        .choice input { min-height: auto; width: 1.1rem; height: 1.1rem; margin: 0; }
        .field.check label { font-weight: 400; }
        .profile-form .actions { padding-bottom: 0; }
        button.danger { background: var(--accent); }
        button.danger:hover { background: #8e1a2f; }
        .button.secondary { background: var(--paper); color: var(--brand); border: 1px solid var(--brand); }
        .button.secondary:hover { background: #e6ebf5; color: var(--brand); }
        .downloads { display: flex; flex-wrap: wrap; gap: .75rem; margin: 0 0 1.5rem; }
        table.data { border-collapse: collapse; width: 100%; font-size: .95rem; }
        table.data th, table.data td { text-align: left; padding: .55rem .8rem; border-bottom: 1px solid var(--line); vertical-align: top; white-space: pre-line; overflow-wrap: break-word; }
        table.data thead th { background: var(--wash); font-size: .85rem; color: var(--muted); }
        table.data tbody th { font-weight: 600; width: 11rem; }
        .panel .table-wrap { box-shadow: none; border: 1px solid var(--line); }
        ul.holders { margin: 0; padding-left: 1.2rem; }
        .tools { flex-wrap: wrap; }
        .tools .me, .tools .badge, .tools button.link { white-space: nowrap; }
        @media (max-width: 40rem) {
          .panel { padding: 1.1rem; }
          table.data thead { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); }
          table.data, table.data tbody, table.data tr, table.data th, table.data td { display: block; width: auto; }
          table.data tr { border-bottom: 1px solid var(--line); padding: .45rem 0; }
          table.data th, table.data td { border: 0; padding: .1rem .8rem; }
          table.data tbody th { width: auto; color: var(--muted); font-size: .85rem; }
          table.data td[data-label]::before { content: attr(data-label) ": "; color: var(--muted); font-size: .85rem; font-weight: 600; }
        }
        footer.site { border-top: 1px solid var(--line); background: var(--paper); color: var(--muted); font-size: .9rem; padding: 1rem 0; }
        footer.site p { margin: .25rem 0; }
        @media (max-width: 40rem) { h1 { font-size: 1.5rem; } dl.facts { grid-template-columns: 1fr; } dl.facts dd { margin-bottom: .5rem; } }
        """
}
