import AcesCore
import Foundation

extension NodeDirectory {
    /// Writes this node's public keys and URLs into its chapter's roster file, creating the file
    /// from the known profile if needed. This is how keys get into the roster: never by hand.
    public func publishToRoster() throws {
        guard let r = config.roster else { throw NodeError.config("aces.toml names no roster folder") }
        let dir = resolve(r)
        let existing = (try? Roster.load(from: dir))?.profile(chapter)
        var p = existing ?? ChapterProfile.known(chapter)
        p.federationURL = config.federation?.url ?? p.federationURL
        p.publicURL = config.web?.url ?? p.publicURL
        var keys = p.keys.filter { k in !config.keys.contains { $0.id == k.id } }
        keys += config.keys.map { RosterKey(id: $0.id, publicKey: $0.publicKey, validFrom: $0.validFrom, validUntil: $0.validUntil) }
        p.keys = keys
        try Roster.write(p, to: dir)
    }
}
