import AcesCore
import AcesStore
import AcesTestSupport
import Foundation
import Testing

/// The directory as visitors and members see it, from a real node serving a replica seeded by
/// three chapters.
@Suite(.serialized) struct DirectoryPageTests {
    static func seed(_ n: WebNode) throws {
        try n.member(
            "zoe", on: "fr",
            [
                "email": "zoe@example.fr", "name": "Zoë Martin", "organisation": "Agence Lumière", "role": "Social media manager",
                "city": "Lyon", "country": "FR", "bio": "Community building for cultural institutions.", "visibility": "public",
                "links": ["https://zoe.example.fr/"],
            ])
        try n.member("marie", on: "fr", ["email": "marie@example.fr", "name": "Marie Membre", "city": "Paris", "visibility": "members"])
        try n.member(
            "claire", on: "fr", ["email": "claire@example.fr", "name": "Claire Chapitre", "city": "Nantes", "visibility": "chapter"])
        try n.member("ivan", on: "fr", ["email": "ivan@example.fr", "name": "Ivan Inactif", "visibility": "public", "status": "inactive"])
        let gone = try n.member("gone", on: "fr", ["email": "gone@example.fr", "name": "Gaston Parti", "visibility": "public"])
        try n.editor("fr").remove(.member, id: gone)
        try n.member(
            "obrien", on: "uk",
            [
                "email": "ob@example.co.uk", "name": "<script>alert(1)</script> O'Brien", "organisation": "Smith & Co", "city": "London",
                "country": "GB", "visibility": "public",
            ])
        try n.member(
            "harry", on: "uk", ["email": "harry@example.co.uk", "name": "Harry Chapter", "city": "Leeds", "visibility": "chapter"])
        try n.member(
            "jurgen", on: "de",
            [
                "email": "j@example.de", "name": "Jürgen Weiß", "role": "Content strategist", "city": "München", "country": "DE",
                "visibility": "public",
            ])
    }

    @Test func visitorsSeeEuropesPublicMembersAndNothingHidden() async throws {
        try await WebNode.with(seed: Self.seed) { n in
            let home = try await n.get("/")
            #expect(home.status == 200)
            #expect(home.header("Content-Type") == "text/html; charset=utf-8")
            for name in ["Zoë Martin", "Jürgen Weiß", "&lt;script&gt;alert(1)&lt;/script&gt; O&#39;Brien", "Smith &amp; Co"] {
                #expect(home.body.contains(name), "\(name) is on the directory")
            }
            #expect(!home.body.contains("<script>"))
            for hidden in ["Marie Membre", "Claire Chapitre", "Harry Chapter", "Ivan Inactif", "Gaston Parti"] {
                #expect(!home.body.contains(hidden), "\(hidden) must not be shown to a visitor")
            }
            #expect(home.body.contains("3 members"))
            #expect(home.body.contains("<label for=\"q\">"))

            // Accents folded, prefixes matched; hidden members are not found either.
            let zoe = try await n.get("/?q=zoe")
            #expect(zoe.body.contains("Zoë Martin") && zoe.body.contains("1 member") && !zoe.body.contains("Jürgen"))
            let munich = try await n.get("/?q=munchen")
            #expect(munich.body.contains("Jürgen Weiß") && munich.body.contains("1 member"))
            let prefix = try await n.get("/?q=MAR")
            #expect(prefix.body.contains("Zoë Martin") && !prefix.body.contains("Marie Membre"))
            let cultural = try await n.get("/?q=cultur+instit")
            #expect(cultural.body.contains("Zoë Martin"))
            let nobody = try await n.get("/?q=membre")
            #expect(nobody.body.contains("0 members") && !nobody.body.contains("Marie"))

            // Filters by chapter and country.
            let uk = try await n.get("/?chapter=uk")
            #expect(uk.body.contains("O&#39;Brien") && !uk.body.contains("Zoë") && uk.body.contains("1 member"))
            let de = try await n.get("/?country=de")
            #expect(de.body.contains("Jürgen") && de.body.contains("1 member"))

            // What a visitor types is shown back as text, and never breaks the page or the query.
            let typed = try await n.get("/?q=%22%3E%3Cscript%3Ex%3C%2Fscript%3E+O%27Brien")
            #expect(typed.status == 200 && !typed.body.contains("<script>x"))
            #expect(typed.body.contains("value=\"&quot;&gt;&lt;script&gt;x&lt;/script&gt; O&#39;Brien\""))
            let fts = try await n.get("/?q=%22a%22+OR+NEAR(x*")
            #expect(fts.status == 200)

            // Profiles: public ones render; hidden ones are 404 like unknown ids, cards too.
            let profile = try await n.get("/members/\(n.ids["zoe"]!)")
            #expect(profile.status == 200 && profile.body.contains("<h1>Zoë Martin</h1>") && profile.body.contains("Agence Lumière"))
            #expect(profile.body.contains("rel=\"nofollow ugc noopener\"") && !profile.body.contains("zoe@example.fr"))
            for label in ["marie", "claire", "harry", "ivan", "gone"] {
                #expect(try await n.get("/members/\(n.ids[label]!)").status == 404, "\(label)'s page is hidden")
                #expect(try await n.get("/members/\(n.ids[label]!).vcf").status == 404, "\(label)'s card is hidden")
                #expect(try await n.get("/api/v1/members/\(n.ids[label]!)").status == 404, "\(label) is hidden from the API")
            }
            let missing = try await n.get("/members/01234567-89ab-7def-8123-456789abcdef")
            #expect(missing.status == 404 && missing.body.contains("Page not found"))
        }
    }

    @Test func signedInMembersSeeMembersAndTheirOwnChapter() async throws {
        try await WebNode.with(seed: Self.seed) { n in
            let store = try n.store()
            let invite = try store.invite(member: n.ids["marie"]!, lifetime: 3600, random: SecretToken.random(32))
            let confirm = try await n.get("/signin?token=\(invite.token)")
            #expect(confirm.status == 200 && confirm.body.contains("<form method=\"post\" action=\"/signin\">"))
            // Opening the link alone signs nobody in (mail scanners follow links).
            #expect(confirm.header("Set-Cookie") == nil)

            let opened = try await n.send(
                .POST, "/signin", headers: [("Content-Type", "application/x-www-form-urlencoded")], body: "token=\(invite.token)")
            #expect(opened.status == 303)
            let setCookie = opened.headers["Set-Cookie"].joined(separator: "\n")
            #expect(setCookie.contains("HttpOnly") && setCookie.contains("SameSite=Lax"))
            let cookie = try #require(WebNode.cookie(opened, "aces_session"))

            let home = try await n.get("/", cookie: cookie)
            for name in ["Zoë Martin", "Marie Membre", "Claire Chapitre", "Jürgen Weiß"] { #expect(home.body.contains(name)) }
            #expect(!home.body.contains("Harry Chapter"), "uk's chapter-only member stays hidden from a fr member")
            #expect(home.body.contains("5 members") && home.body.contains("Sign out"))
            let claire = try await n.get("/members/\(n.ids["claire"]!)", cookie: cookie)
            #expect(claire.status == 200 && claire.body.contains("mailto:claire@example.fr"))
            #expect(try await n.get("/members/\(n.ids["harry"]!)", cookie: cookie).status == 404)
            let card = try await n.get("/members/\(n.ids["claire"]!).vcf", cookie: cookie)
            #expect(card.body.contains("EMAIL") && card.body.contains("claire@example.fr"))
            let api = try await n.get("/api/v1/members?limit=100", cookie: cookie)
            #expect(api.json?["total"] == 5 && api.body.contains("marie@example.fr") && !api.body.contains("harry@"))

            // Revoking the member's access ends the session and the link.
            try store.revokeAccess(member: n.ids["marie"]!)
            let after = try await n.get("/", cookie: cookie)
            #expect(after.body.contains("3 members") && !after.body.contains("Marie Membre"))
            #expect(try await n.get("/signin?token=\(invite.token)").status == 403)

            // An expired link does nothing.
            let old = try store.invite(
                member: n.ids["marie"]!, lifetime: 60, random: SecretToken.random(32), now: Date().addingTimeInterval(-120))
            let refused = try await n.send(
                .POST, "/signin", headers: [("Content-Type", "application/x-www-form-urlencoded")], body: "token=\(old.token)")
            #expect(refused.status == 403 && WebNode.cookie(refused, "aces_session") == nil)
        }
    }

    @Test func pagesSpeakTheVisitorsLanguage() async throws {
        try await WebNode.with(seed: Self.seed) { n in
            let fr = try await n.get("/", headers: [("Accept-Language", "de-DE,fr;q=0.8,en;q=0.5")])
            #expect(fr.body.contains("<html lang=\"fr\">") && fr.body.contains("Annuaire") && fr.body.contains("3 membres"))
            #expect(fr.header("Content-Language") == "fr")
            let en = try await n.get("/", headers: [("Accept-Language", "en-GB,fr;q=0.9")])
            #expect(en.body.contains("<html lang=\"en\">") && en.body.contains("Directory"))
            // The switch wins over the header and is remembered.
            let switched = try await n.get("/?lang=fr", headers: [("Accept-Language", "en")])
            #expect(switched.body.contains("Annuaire"))
            let remembered = try #require(WebNode.cookie(switched, "aces_lang"))
            let next = try await n.get("/events", cookie: remembered, headers: [("Accept-Language", "en")])
            #expect(next.body.contains("Événements à venir"))
            // A refusal is one sentence in the page's language; the JSON API answers in English.
            let bad = try await n.get("/?page=abc", headers: [("Accept-Language", "fr")])
            #expect(bad.status == 400 && bad.body.contains("« page » doit être un nombre entier de 1 à"), "\(bad.body)")
            let badEN = try await n.get("/?page=abc", headers: [("Accept-Language", "en")])
            #expect(badEN.status == 400 && badEN.body.contains("&#39;page&#39; must be a whole number from 1 to"))
            let api = try await n.get("/api/v1/members?zz=1", headers: [("Accept-Language", "fr")])
            #expect(api.status == 400 && api.body.contains("unknown parameter 'zz'"))
        }
    }

    @Test func listingsPageThroughEveryMemberOnce() async throws {
        try await WebNode.with(
            seed: { n in
                for i in 0..<30 {
                    try n.member(
                        "p\(i)", on: "fr", ["email": .string("p\(i)@example.fr"), "name": .string("Person \(i)"), "visibility": "public"])
                }
            },
            { n in
                let first = try await n.get("/")
                #expect(first.body.contains("Page 1 of 2") && first.body.contains("rel=\"next\" href=\"/?page=2\""))
                let second = try await n.get("/?page=2")
                #expect(second.body.contains("Page 2 of 2") && second.body.contains("rel=\"prev\""))
                #expect(try await n.get("/?page=3").status == 404)

                var seen = [String]()
                var cursor: String?
                repeat {
                    let page = try await n.get("/api/v1/members?limit=7" + (cursor.map { "&cursor=\($0)" } ?? ""))
                    let json = try #require(page.json)
                    #expect(json["total"] == 30)
                    seen += (json["items"]?.arrayValue ?? []).compactMap { $0["id"]?.stringValue }
                    cursor = json["next_cursor"]?.stringValue
                } while cursor != nil
                #expect(seen.count == 30 && Set(seen).count == 30)
            })
    }
}
