import AcesCore
import AcesStore
import AcesWorkflows
import ArgumentParser
import Foundation

struct EventCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "event",
        abstract: "Add, change, cancel and look up events of the calendar.",
        subcommands: [Add.self, Update.self, Cancel.self, Show.self, List.self, Import.self, Export.self, Grant.self, Transfer.self]
    )
}

/// The event fields as command-line options. Times are local wall times in the event's zone.
struct EventFields: ParsableArguments {
    @Option(help: "Title (at most 200 bytes of UTF-8).") var title: String?
    @Option(help: "Description (at most 8000 bytes).") var description: String?
    @Option(help: ArgumentHelp("Local start time in the event's zone.", valueName: "YYYY-MM-DDTHH:MM")) var start: String?
    @Option(help: ArgumentHelp("Local end time in the event's zone.", valueName: "YYYY-MM-DDTHH:MM")) var end: String?
    @Option(name: .customLong("tz"), help: ArgumentHelp("IANA time zone, e.g. Europe/Paris.", valueName: "zone")) var timezone: String?
    @Option(help: "Venue (at most 300 bytes).") var venue: String?
    @Option(help: "Web page of the event.") var url: String?
    @Option(help: "Number of places.") var capacity: Int?

    /// Validated values; `current` is the event as it stands, for updates. Times are read as the
    /// admin API reads them (`Editor.eventTimes`), the errors worded for the options.
    func values(current: Record? = nil) throws -> [String: JSONValue] {
        var raw = [String: JSONValue]()
        let pairs: [(String, String?)] = [
            ("title", title), ("description", description), ("venue", venue), ("url", url), ("timezone", timezone),
            ("start", start), ("end", end),
        ]
        for (k, s) in pairs { if let s { raw[k] = .string(s) } }
        if let capacity { raw["capacity"] = .number(Double(capacity)) }
        let timed: [String: JSONValue]
        do { timed = try Editor.eventTimes(raw, current: current) } catch {
            switch error {
            case .unknownZone(let tz):
                throw ValidationError("--tz: '\(tz.prefix(60))' is not a known IANA time zone (for example Europe/Paris)")
            case .zoneRequired(let field): throw ValidationError("--tz is required with --\(field)")
            case .notATime(let field, let text, let zone):
                throw ValidationError("--\(field): '\(text.prefix(40))' is not a local time like 2027-03-14T18:30 that exists in \(zone)")
            case .endNotAfterStart: throw ValidationError("the event must end after it starts (--end is not after --start)")
            }
        }
        return try FieldInput.validated(.event, timed)
    }
}

/// Local time of an event as people read it (`2027-03-14 18:30 CET`), or in another pattern
/// (`yyyy-MM-dd HH:mm`: the wall time an import reads back).
enum EventTime {
    static func local(_ instant: String?, zone: String?, format: String = "yyyy-MM-dd HH:mm zzz") -> String {
        guard let instant, let date = Instant.parse(instant), let zone, let tz = TimeZone(identifier: zone) else { return instant ?? "" }
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_GB")
        f.timeZone = tz
        f.dateFormat = format
        return f.string(from: date)
    }
}

extension EventCommand {
    struct Add: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Add an event organised by this node's chapter and print the new id.",
            discussion: "Example: aces event add --title 'Meetup' --start 2027-03-14T18:30 --end 2027-03-14T21:00 --tz Europe/Paris"
        )
        @OptionGroup var node: NodeOptions
        @OptionGroup var fields: EventFields
        @OptionGroup var output: OutputOptions

        func validate() throws {
            for (flag, v) in [("--title", fields.title), ("--start", fields.start), ("--end", fields.end), ("--tz", fields.timezone)]
            where v == nil {
                throw ValidationError("\(flag) is required")
            }
            _ = try fields.values()
        }

        func run() throws {
            let dir = try node.node()
            let r = try Editor(directory: dir, store: try dir.openStore()).addEvent(try fields.values())
            let id = r.id
            if output.json { Out.json(r.json) } else { Out.line(id) }
        }
    }

    struct Update: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Change fields of an event.",
            discussion: "Times are read in the event's zone (or in --tz when given). Changing --tz alone keeps the instants."
        )
        @OptionGroup var node: NodeOptions
        @Argument(help: "The event's id.") var id: String
        @OptionGroup var fields: EventFields
        @Option(name: .customLong("clear"), help: "Clear an optional field (repeat for several).") var clear: [String] = []
        @OptionGroup var output: OutputOptions

        func validate() throws {
            _ = try FieldInput.recordID(.event, id)
            _ = try FieldInput.cleared(.event, clear)
            let given = [fields.title, fields.description, fields.start, fields.end, fields.timezone, fields.venue, fields.url].contains {
                $0 != nil
            }
            guard given || fields.capacity != nil || !clear.isEmpty else {
                throw ValidationError("name at least one field to change, e.g. --venue 'Le Loft'")
            }
        }

        func run() throws {
            let id = try FieldInput.recordID(.event, id)
            let dir = try node.node()
            let store = try dir.openStore()
            try store.author(as: try dir.author()) { draft in
                guard let r = try draft.record(.event, id: id), !r.removed else { throw StoreError.notFound(.event, id) }
                let values = try fields.values(current: r).merging(try FieldInput.cleared(.event, clear)) { a, _ in a }
                let changed = r.changes(values)
                return changed.isEmpty ? [] : [.set(.event, id: id, values: changed)]
            }
            guard let r = try store.record(.event, id: id) else { throw StoreError.notFound(.event, id) }
            if output.json { Out.json(r.json) } else { EventText.show(r) }
        }
    }

    struct Cancel: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Mark an event as cancelled (it stays in the calendar, marked).")
        @OptionGroup var node: NodeOptions
        @Argument(help: "The event's id.") var id: String

        func validate() throws { _ = try FieldInput.recordID(.event, id) }

        func run() throws {
            let id = try FieldInput.recordID(.event, id)
            let dir = try node.node()
            try dir.openStore().author(as: try dir.author()) { draft in
                guard let r = try draft.record(.event, id: id), !r.removed else { throw StoreError.notFound(.event, id) }
                return r.values["status"] == "cancelled" ? [] : [.set(.event, id: id, values: ["status": "cancelled"])]
            }
            Out.line("Cancelled event \(id).")
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show one event, with its local time and zone.")
        @OptionGroup var node: NodeOptions
        @Argument(help: "The event's id.") var id: String
        @OptionGroup var output: OutputOptions

        func validate() throws { _ = try FieldInput.recordID(.event, id) }

        func run() throws {
            let id = try FieldInput.recordID(.event, id)
            let store = try node.node().openStore()
            guard let r = try store.record(.event, id: id) else { throw StoreError.notFound(.event, id) }
            if output.json { Out.json(r.json) } else { EventText.show(r, extra: try OwnershipCLI.lines(store, .event, id: id)) }
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List events by start time, filtered by chapter and text.")
        @OptionGroup var node: NodeOptions
        @Option(help: "Only events of this chapter.") var chapter: String?
        @Option(name: [.customLong("query"), .customShort("q")], help: "Words to look for in title, description and venue.")
        var query: String?
        @Flag(help: "Include removed events.") var all = false
        @Option(help: "At most this many.") var limit = 1000
        @OptionGroup var output: OutputOptions

        func validate() throws {
            if let chapter, ChapterID(chapter) == nil { throw ValidationError("--chapter: \(ChapterID.rule)") }
            guard (1...100_000).contains(limit) else { throw ValidationError("--limit must be from 1 to 100000") }
        }

        func run() throws {
            let records = try node.node().openStore().records(
                .event, filter: RecordFilter(chapter: chapter.flatMap(ChapterID.init), text: query, includeRemoved: all, limit: limit))
            if output.json { return Out.json(.array(records.map(\.json))) }
            Out.table(
                ["ID", "START", "TITLE", "CHAPTER", "STATUS"],
                records.map { r in
                    [
                        r.id, EventTime.local(r.values["start"]?.stringValue, zone: r.values["timezone"]?.stringValue),
                        r.values["title"]?.display ?? "", r.values["chapter"]?.display ?? "",
                        r.removed ? "removed" : (r.values["status"]?.display ?? ""),
                    ]
                })
        }
    }
}

enum EventText {
    static func show(_ r: Record, extra: [(String, String)] = []) {
        let zone = r.values["timezone"]?.stringValue
        RecordText.show(
            r,
            extra: [
                ("starts", EventTime.local(r.values["start"]?.stringValue, zone: zone)),
                ("ends", EventTime.local(r.values["end"]?.stringValue, zone: zone)),
            ] + extra)
    }
}
