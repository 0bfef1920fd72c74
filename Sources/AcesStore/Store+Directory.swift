import AcesCore
import Foundation
import GRDB

/// Who is looking at the directory; decides which members they may see.
public enum Viewer: Sendable, Hashable {
    /// Anyone: sees public members only.
    case visitor
    /// A signed-in member: also sees `members`, and `chapter` members of their own chapter.
    case member(id: String, chapter: ChapterID)

    /// Whether this viewer may see a member with this visibility in this chapter.
    public func maySee(visibility: String?, chapter: String?) -> Bool {
        switch (self, visibility) {
        case (_, "public"): true
        case (.member, "members"): true
        case (.member(_, let c), "chapter"): chapter == c.rawValue
        default: false
        }
    }

    /// The same rule as SQL over the members table, with its arguments.
    var sql: (String, [DatabaseValue]) {
        switch self {
        case .visitor: ("visibility = 'public'", [])
        case .member(_, let c):
            ("(visibility IN ('public', 'members') OR (visibility = 'chapter' AND \"chapter\" = ?))", [c.rawValue.databaseValue])
        }
    }
}

/// A page of the member directory.
public struct DirectoryQuery: Sendable {
    public var viewer: Viewer
    /// Words to find (prefixes, accents folded) in name, organisation, role, city and bio.
    public var text: String?
    public var chapter: ChapterID?
    public var country: String?
    public var limit: Int
    /// Continue after this member (keyset pagination).
    public var after: DirectoryCursor?
    /// Or skip this many (numbered pages of the HTML directory).
    public var offset: Int

    public init(
        viewer: Viewer, text: String? = nil, chapter: ChapterID? = nil, country: String? = nil, limit: Int = 20,
        after: DirectoryCursor? = nil, offset: Int = 0
    ) {
        self.viewer = viewer
        self.text = text
        self.chapter = chapter
        self.country = country
        self.limit = limit
        self.after = after
        self.offset = offset
    }
}

/// Where a page of a listing ended: the sort key and id of its last record.
public struct DirectoryCursor: Sendable, Hashable {
    public let key: String
    public let id: String

    public init(key: String, id: String) {
        self.key = key
        self.id = id
    }

    /// Opaque text for a URL.
    public var token: String { Base64URL.encode(Array(CanonicalJSON.encode(.array([.string(key), .string(id)])))) }

    /// Reads a token made by `token`; nil when it is not one.
    public init?(token: String) {
        guard token.utf8.count <= 1024, let bytes = Base64URL.decode(token),
            case .array(let a)? = try? JSONParser.parse(bytes), a.count == 2,
            let key = a[0].stringValue, let id = a[1].stringValue
        else { return nil }
        self.init(key: key, id: id)
    }
}

/// One page of results, the total that matched, and where the next page starts.
public struct ListingPage: Sendable {
    public let records: [Record]
    /// How many matched, counted up to `Store.countCap`.
    public let total: Int
    /// False when more than `Store.countCap` matched.
    public let totalIsExact: Bool
    public let next: DirectoryCursor?
}

/// Which events a calendar shows.
public struct CalendarQuery: Sendable {
    public var chapter: ChapterID?
    /// Events that end at or after this instant.
    public var from: Date?
    /// Events that start before this instant.
    public var until: Date?
    public var includeCancelled: Bool
    public var limit: Int
    public var after: DirectoryCursor?
    public var offset: Int

    public init(
        chapter: ChapterID? = nil, from: Date? = nil, until: Date? = nil, includeCancelled: Bool = true, limit: Int = 50,
        after: DirectoryCursor? = nil, offset: Int = 0
    ) {
        self.chapter = chapter
        self.from = from
        self.until = until
        self.includeCancelled = includeCancelled
        self.limit = limit
        self.after = after
        self.offset = offset
    }
}

extension Store {
    /// Counts stop here: "more than 1,000" is what a person needs, and it keeps a broad search
    /// as fast as a narrow one.
    public static let countCap = 1000
    /// A page of the directory as `query.viewer` may see it: active, listed members only,
    /// sorted by name (accents and case folded). Hidden members are not counted either.
    /// With words to find, the search index answers alone (see `SearchIndex`): results come in
    /// the order of the names' first eight letters.
    public func directory(_ query: DirectoryQuery) throws -> ListingPage { try pool.read(try Store.directoryRead(query)) }

    /// `directory(_:)` from async code.
    public func directory(_ query: DirectoryQuery) async throws -> ListingPage {
        try await pool.read(try Store.directoryRead(query))
    }

    /// The read that answers a directory query (its cursor is checked first).
    private static func directoryRead(_ query: DirectoryQuery) throws -> @Sendable (Database) throws -> ListingPage {
        let words = SearchText.words(query.text ?? "")
        if !words.isEmpty { return try searchRead(words, query) }
        if let after = query.after, after.key.hasPrefix(Store.searchCursor) {
            throw StoreError.invalid("the cursor belongs to a search, not to this listing")
        }
        var clauses = ["removed = 0", "status = 'active'"]
        var args = [DatabaseValue]()
        let (vis, visArgs) = query.viewer.sql
        clauses.append(vis)
        args += visArgs
        if let c = query.chapter {
            clauses.append("\"chapter\" = ?")
            args.append(c.rawValue.databaseValue)
        }
        if let c = query.country {
            clauses.append("country = ?")
            args.append(c.databaseValue)
        }
        return { [clauses, args] db in
            try Store.page(
                db, table: "members", kind: .member, clauses: clauses, args: args, order: ("name_key", "id"), limit: query.limit,
                after: query.after, offset: query.offset, countSQL: nil, countArgs: args)
        }
    }

    /// Marks cursors of search results (a character no name can hold).
    static let searchCursor = "\u{1}"

    private static func searchRead(_ words: [String], _ query: DirectoryQuery) throws -> @Sendable (Database) throws -> ListingPage {
        let match = SearchIndex.match(words: words, viewer: query.viewer, chapter: query.chapter, country: query.country)
        var after: Int64 = .min
        if let cursor = query.after {
            guard cursor.key.hasPrefix(Store.searchCursor), let r = Int64(cursor.key.dropFirst()) else {
                throw StoreError.invalid("the cursor does not belong to this search")
            }
            after = r
        }
        return { [after] db in
            // One pass over the index gives the count (up to the cap) and, usually, the page too:
            // FTS5 materialises prefix matches, so a second query would pay for them again.
            let sql = "SELECT rowid FROM member_search WHERE member_search MATCH ? AND rowid > ? ORDER BY rowid LIMIT ?"
            var head = try Int64.fetchAll(db, sql: sql, arguments: [match, Int64.min, Store.countCap + 1])
            // While a large transaction's members wait to be indexed, check each hit's visibility
            // and filters against the table, so neither a hidden member nor the count shows.
            if try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM search_pending)") == true {
                let check = try db.cachedStatement(
                    sql: "SELECT visibility, \"chapter\", country, status, removed FROM members WHERE rowid = ?")
                head = try head.filter { hit in
                    guard let row = try Row.fetchOne(check, arguments: [SearchIndex.member(hit)]) else { return false }
                    let chapter: String? = row["chapter"]
                    return (row["removed"] as Bool) == false && (row["status"] as String?) == "active"
                        && query.viewer.maySee(visibility: row["visibility"], chapter: chapter)
                        && (query.chapter == nil || chapter == query.chapter?.rawValue)
                        && (query.country == nil || (row["country"] as String?) == query.country)
                }
            }
            let fromHead = head.filter { $0 > after }
            var hits = Array(fromHead.dropFirst(query.offset))
            if hits.count <= query.limit && head.count > Store.countCap, let last = head.last {
                // The page reaches past the first thousand matches: continue after them.
                let skip = max(0, query.offset - fromHead.count)
                hits += try Int64.fetchAll(db, sql: sql + " OFFSET ?", arguments: [match, max(after, last), query.limit + 1, skip])
            }
            let select = try db.cachedStatement(sql: "SELECT \(Record.columns(.member)) FROM members WHERE rowid = ?")
            var records = [Record]()
            for hit in hits.prefix(query.limit) {
                guard let row = try Row.fetchOne(select, arguments: [SearchIndex.member(hit)]) else { continue }
                let r = try Record(kind: .member, row: row)
                // The index and the table change in one transaction; this only guards the rule.
                guard !r.removed, r.values["status"] == "active",
                    query.viewer.maySee(visibility: r.values["visibility"]?.stringValue, chapter: r.values["chapter"]?.stringValue)
                else { continue }
                records.append(r)
            }
            var next: DirectoryCursor?
            if hits.count > query.limit, let last = hits.prefix(query.limit).last, let r = records.last {
                next = DirectoryCursor(key: Store.searchCursor + String(last), id: r.id)
            }
            let total = head.count
            return ListingPage(records: records, total: min(total, Store.countCap), totalIsExact: total <= Store.countCap, next: next)
        }
    }

    /// One member as `viewer` may see it: nil when unknown, removed, inactive or hidden from them.
    /// A merged duplicate the viewer may see gives the id it was merged into, to redirect to; one
    /// hidden from them is unknown, so its id never links to the survivor.
    public func member(_ id: String, as viewer: Viewer) throws -> (record: Record?, mergedInto: String?) {
        Store.visible(try record(.member, id: id), to: viewer)
    }

    /// `member(_:as:)` from async code.
    public func member(_ id: String, as viewer: Viewer) async throws -> (record: Record?, mergedInto: String?) {
        Store.visible(try await record(.member, id: id), to: viewer)
    }

    private static func visible(_ r: Record?, to viewer: Viewer) -> (record: Record?, mergedInto: String?) {
        guard let r, r.values["status"] == "active",
            viewer.maySee(visibility: r.values["visibility"]?.stringValue, chapter: r.values["chapter"]?.stringValue)
        else { return (nil, nil) }
        if let survivor = r.values["merged_into"]?.stringValue, !r.state.erased { return (nil, survivor) }
        return r.removed ? (nil, nil) : (r, nil)
    }

    /// Events for the calendar, by start time; removed events never, cancelled ones when asked.
    public func calendar(_ query: CalendarQuery) throws -> ListingPage { try pool.read(Store.calendarRead(query)) }

    /// `calendar(_:)` from async code.
    public func calendar(_ query: CalendarQuery) async throws -> ListingPage { try await pool.read(Store.calendarRead(query)) }

    private static func calendarRead(_ query: CalendarQuery) -> @Sendable (Database) throws -> ListingPage {
        var clauses = ["removed = 0"]
        var args = [DatabaseValue]()
        if let c = query.chapter {
            clauses.append("\"chapter\" = ?")
            args.append(c.rawValue.databaseValue)
        }
        if let from = query.from {
            clauses.append("\"end\" >= ?")
            args.append(Instant.format(from).databaseValue)
        }
        if let until = query.until {
            clauses.append("\"start\" < ?")
            args.append(Instant.format(until).databaseValue)
        }
        if !query.includeCancelled { clauses.append("status = 'scheduled'") }
        return { [clauses, args] db in
            try Store.page(
                db, table: "events", kind: .event, clauses: clauses, args: args, order: ("\"start\"", "id"), limit: query.limit,
                after: query.after, offset: query.offset, countSQL: nil, countArgs: args)
        }
    }

    private static func page(
        _ db: Database, table: String, kind: RecordKind, clauses: [String], args: [DatabaseValue], order: (String, String), limit: Int,
        after: DirectoryCursor?, offset: Int, countSQL: String?, countArgs: [DatabaseValue]
    ) throws -> ListingPage {
        let filter = " WHERE " + clauses.joined(separator: " AND ")
        var pageFilter = filter
        var pageArgs = args
        if let after {
            pageFilter += " AND (\(order.0), \(order.1)) > (?, ?)"
            pageArgs += [after.key.databaseValue, after.id.databaseValue]
        }
        let sql =
            "SELECT \(Record.columns(kind)), \(order.0) AS sort_key FROM \(table)\(pageFilter) ORDER BY \(order.0), \(order.1) LIMIT ? OFFSET ?"
        let rows = try Row.fetchAll(
            db, sql: sql, arguments: StatementArguments(pageArgs + [(limit + 1).databaseValue, offset.databaseValue]))
        let count = countSQL ?? "SELECT count(*) FROM (SELECT 1 FROM \(table)\(filter) LIMIT \(countCap + 1))"
        let total = try Int.fetchOne(db, sql: count, arguments: StatementArguments(countArgs)) ?? 0
        let records = try rows.prefix(limit).map { try Record(kind: kind, row: $0) }
        var next: DirectoryCursor?
        if rows.count > limit, let last = rows.prefix(limit).last {
            next = DirectoryCursor(key: (last["sort_key"] as String?) ?? "", id: last["id"])
        }
        return ListingPage(records: records, total: min(total, countCap), totalIsExact: total <= countCap, next: next)
    }

    /// Countries of the members `viewer` may see, for the directory's filter.
    public func directoryCountries(as viewer: Viewer) throws -> [String] { try pool.read(Store.countriesRead(viewer)) }

    /// `directoryCountries(as:)` from async code.
    public func directoryCountries(as viewer: Viewer) async throws -> [String] { try await pool.read(Store.countriesRead(viewer)) }

    /// The distinct countries by skipping through the `members_country` index: one seek per
    /// country instead of a walk over every listed member (a scan of 100,000 members took most
    /// of a directory page's time).
    private static func countriesRead(_ viewer: Viewer) -> @Sendable (Database) throws -> [String] {
        let (vis, args) = viewer.sql
        return { db in
            let next = try db.cachedStatement(
                sql: """
                    SELECT country FROM members INDEXED BY members_country
                    WHERE removed = 0 AND country > ? AND status = 'active' AND \(vis) ORDER BY country LIMIT 1
                    """)
            var countries = [String]()
            var after = ""
            while let country = try String.fetchOne(next, arguments: StatementArguments([after.databaseValue] + args)) {
                countries.append(country)
                after = country
            }
            return countries
        }
    }
}

extension Store {
    /// Counts an operator watches: open conflicts, quarantined entries, members waiting for the
    /// search indexer, listed members and events.
    public func operationalCounts() throws -> OperationalCounts { try pool.read(Store.operationalCounts(in:)) }

    /// `operationalCounts()` from async code.
    public func operationalCounts() async throws -> OperationalCounts { try await pool.read(Store.operationalCounts(in:)) }

    /// Open conflicts, quarantined entries, members waiting for the indexer, listed members and events.
    public typealias OperationalCounts = (conflicts: Int, quarantined: Int, searchPending: Int, members: Int, events: Int)

    private static func operationalCounts(in db: Database) throws -> OperationalCounts {
        let row = try Row.fetchOne(
            db,
            sql: """
                SELECT (SELECT count(*) FROM members WHERE conflicted = 1) + (SELECT count(*) FROM events WHERE conflicted = 1),
                       (SELECT count(*) FROM quarantine), (SELECT count(*) FROM search_pending),
                       (SELECT count(*) FROM members WHERE removed = 0), (SELECT count(*) FROM events WHERE removed = 0)
                """)!
        return (row[0], row[1], row[2], row[3], row[4])
    }
}

extension Store {
    /// Live members by the identity key of each given email, read in one transaction (an
    /// import's matching step: one lookup per row, not one transaction per row).
    public func liveMembers(withEmails emails: [String]) throws -> [String: Record] {
        try pool.read { db in
            let select = try db.cachedStatement(
                sql: "SELECT \(Record.columns(.member)) FROM members WHERE email_key = ? AND removed = 0 ORDER BY id LIMIT 1")
            var out = [String: Record]()
            for email in emails {
                let key = EmailAddress.identityKey(email)
                if out[key] != nil { continue }
                if let row = try Row.fetchOne(select, arguments: [key]) { out[key] = try Record(kind: .member, row: row) }
            }
            return out
        }
    }
}
