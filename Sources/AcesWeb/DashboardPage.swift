import AcesCore
import AcesFederation
import AcesStore
import Foundation

/// `/federation`: every node's health at a glance, for operators (ids and counts only).
enum DashboardPage {
    /// `showCauses` (an admin token) shows why a peer fails; anyone else sees only whether it is
    /// reachable. `warnings` are certificates unusable or about to expire.
    static func render(
        _ req: PageRequest, rows: [FederationDashboard.Row], own: ChapterID, peers: [PeerStatus], showCauses: Bool = false,
        warnings: [String] = []
    ) -> HTML {
        let fr = req.language == .fr
        let headers =
            fr
            ? [
                "Nœud", "Joignable", "Entrées en retard (vu d'ici)", "Dernière synchronisation", "Dernière erreur", "Conflits ouverts",
                "En quarantaine", "Refusées (propriété)", "Origines gelées (fourche)",
            ]
            : [
                "Node", "Reachable", "Entries behind (seen from here)", "Last sync", "Last error", "Open conflicts", "Quarantined",
                "Refused (ownership)", "Frozen origins (fork)",
            ]
        let mine = Dictionary(uniqueKeysWithValues: peers.map { ($0.chapter, $0) })
        let body: [HTML] = rows.map { row in
            let name = req.site.chapterName(row.chapter, req.language)
            let isSelf = row.chapter == own.rawValue
            let view = mine[row.chapter]
            let reachable: HTML =
                row.status != nil
                ? "<span class=\"badge ok\">\(fr ? "oui" : "yes")</span>" : "<span class=\"badge cancelled\">\(fr ? "non" : "no")</span>"
            let behind = isSelf ? "–" : view.map { String($0.lag.values.reduce(0, +)) } ?? "?"
            let last = isSelf ? "–" : view?.lastSuccess.map { Instant.format($0) } ?? (fr ? "jamais" : "never")
            // The last sync pass's sentence says most (it had time to look at the peer's certificate).
            let cause = isSelf ? row.error : (view?.lastError ?? row.error)
            let error = cause == nil ? "" : showCauses ? cause! : row.status == nil ? (fr ? "injoignable" : "unreachable") : ""
            let conflicts = row.status?["conflicts_open"]?.intValue.map(String.init) ?? "?"
            let quarantined = row.status?["quarantined"]?.intValue.map(String.init) ?? "?"
            let refused = row.status?["refused_operations"]?.intValue.map(String.init) ?? "?"
            // An origin this node froze after a fork: an alarm for operators, chapter ids only.
            let frozenIDs = (row.status?["frozen"]?.arrayValue ?? []).compactMap { $0.stringValue.flatMap(ChapterID.init) }
            let badges = frozenIDs.map { id -> HTML in "<span class=\"badge cancelled\">\(id.rawValue)</span> " }
            let frozen: HTML = row.status == nil ? "?" : badges.isEmpty ? "–" : "\(badges)"
            return """
                <tr><th scope="row">\(name) <span class="chip">\(row.chapter)</span>\(isSelf ? " (\(fr ? "ce nœud" : "this node"))" : "")</th>\
                <td>\(reachable)</td><td>\(behind)</td><td>\(last)</td><td>\(error)</td><td>\(conflicts)</td><td>\(quarantined)</td><td>\(refused)</td><td>\(frozen)</td></tr>
                """
        }
        let th: [HTML] = headers.map { "<th scope=\"col\">\($0)</th>" }
        let main: HTML = """
            <h1>\(fr ? "Santé de la fédération" : "Federation health")</h1>
            <p class="hint">\(fr ? "Chaque nœud répond sur son port de fédération (TLS mutuel) ; les chiffres sont des identifiants et des comptes." : "Each node answers on its federation listener (mutual TLS); figures are ids and counts only.")</p>
            \(warnings.map { w -> HTML in "<p class=\"notice\">\(w)</p>" })
            <div class="table-wrap"><table class="health"><thead><tr>\(th)</tr></thead><tbody>\(body)</tbody></table></div>
            """
        return Layout.page(req, title: fr ? "Santé de la fédération" : "Federation health", section: .other, main: main)
    }
}
