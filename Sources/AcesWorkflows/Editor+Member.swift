import AcesCore
import AcesStore
import Foundation

/// A signed-in member's own writes: their profile and their erasure. Each edit is an ordinary
/// signed entry of this node's chapter that says the member made it (`"by": "member"`).
extension Editor {
    /// The fields a member edits themself; email, status and chapter stay with the admins.
    public static let memberEditable = [
        "name", "organisation", "role", "city", "country", "bio", "links", "visibility", "email_visibility",
    ]

    /// Whether this node may write a member's own edits: this node's chapter owns the record (its
    /// `chapter` always shows the owner, PROTOCOL.md §2 *Ownership*). A member owned by another
    /// chapter edits, asks for their data and erasure through that chapter's node, and the
    /// authoring store refuses anything else in any case.
    public static func editsHere(_ r: Record, chapter: ChapterID) -> Bool {
        r.values["chapter"]?.stringValue == chapter.rawValue
    }

    /// Changes the signed-in member `id`'s own fields, validated as the CLI validates them.
    /// Unchanged values write nothing. Throws `StoreError.invalid` with one sentence.
    public func updateOwnProfile(_ id: String, _ raw: [String: JSONValue]) throws -> Record {
        if let other = raw.keys.sorted().first(where: { !Editor.memberEditable.contains($0) }) {
            throw StoreError.invalid("a member cannot change '\(other.prefix(40))' of their own profile")
        }
        let values = try Editor.validated(.member, raw)
        var author = try directory.author()
        author.byMember = true
        let chapter = directory.chapter
        try store.author(as: author) { draft in
            guard let r = try draft.record(.member, id: id), !r.removed else { throw StoreError.notFound(.member, id) }
            guard Editor.editsHere(r, chapter: chapter) else {
                throw StoreError.invalid("this member's profile is kept by another chapter's node; edit it there")
            }
            let changed = r.changes(values)
            return changed.isEmpty ? [] : [.set(.member, id: id, values: changed)]
        }
        guard let r = try store.record(.member, id: id) else { throw StoreError.notFound(.member, id) }
        return r
    }

    /// The reason kept on this node for an erasure a member asked for themself.
    public static let memberErasureReason = "asked for by the member from their profile"

    /// Carries out or queues the erasure the signed-in member `id` confirmed, as this node's
    /// `[directory] member_erasure` says. Returns true when the member is erased now.
    public func eraseOnRequest(_ id: String, now: Date = Date()) throws -> Bool {
        guard let r = try store.record(.member, id: id), !r.removed else { throw StoreError.notFound(.member, id) }
        guard Editor.editsHere(r, chapter: directory.chapter) else {
            throw StoreError.invalid("this member's profile is kept by another chapter's node; ask for erasure there")
        }
        if directory.config.directory?.reviewsErasures == true {
            try store.requestErasure(of: id, now: now)
            return false
        }
        try store.requestErasure(of: id, now: now)
        try eraseMember(id, reason: Editor.memberErasureReason)
        try store.revokeAccess(member: id, now: now)
        return true
    }
}
