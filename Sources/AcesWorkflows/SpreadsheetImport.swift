import AcesCore
import AcesStore

/// One change an import authors: a new record (no id) or the changed fields of an existing one.
public struct ImportChange: Sendable {
    public let line: Int
    public let id: String?
    public let values: [String: JSONValue]
    /// For an update, the record's values before it (a dry run shows each change as old → new).
    public let before: [String: JSONValue]

    public init(line: Int, id: String?, values: [String: JSONValue], before: [String: JSONValue] = [:]) {
        self.line = line
        self.id = id
        self.values = values
        self.before = before
    }
}

/// A spreadsheet read and checked against the replica (`MemberImport`, `EventImport`): what
/// importing it would add, change and refuse, and how each change becomes a signed entry.
public protocol SpreadsheetImport: Sendable {
    var added: [ImportChange] { get }
    var updated: [ImportChange] { get }
    var unchanged: Int { get }
    /// Rows refused, in line order, with one sentence each (never the cell's text: it may be
    /// personal data).
    var problems: [(line: Int, reason: String)] { get }
    /// Columns that are not fields of the kind imported (ignored).
    var ignoredColumns: [String] { get }
    /// Rows made only of separators (how Excel writes an empty row), skipped.
    var blankRows: Int { get }
    /// The mutations of one change, inside the authoring transaction.
    func mutations(_ change: ImportChange, draft: Draft, author: Author) throws -> [Mutation]
}

extension SpreadsheetImport {
    /// Authors the changes in one transaction, several per signed entry (`EntryGrouping.imports`),
    /// reporting progress; the members it adds or changes are searchable when it returns. All or
    /// nothing: if one change is refused (an email that appeared meanwhile), nothing is written.
    /// Returns how many entries were written.
    @discardableResult
    public func apply(_ editor: Editor, progress: (Int, Int) -> Void = { _, _ in }) throws -> Int {
        let changes = added + updated
        let author = try editor.directory.author()
        // Each change sets its values in one `set` (`mutations`): their payloads are made ahead.
        return try editor.store.authorImport(
            as: author, count: changes.count, progress: { progress($0, changes.count) }, values: { changes[$0].values }
        ) { draft, k in
            try mutations(changes[k], draft: draft, author: author)
        }
    }
}
