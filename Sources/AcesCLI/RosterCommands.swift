import AcesCore
import AcesNodeFiles
import AcesStore
import ArgumentParser
import Foundation

/// The roster a node holds, for `aces status` and `aces roster show`.
struct RosterSummary {
    var signed: SignedRoster?
    var folder: String?
    var refusals: [RosterRefusal]

    init(_ dir: NodeDirectory, _ store: Store) throws {
        signed = try store.currentRoster().map { try SignedRoster(bytes: Array($0.document.utf8)) }
        folder = dir.config.roster.map(dir.resolve)
        refusals = try store.rosterRefusals()
    }

    var line: String {
        if let s = signed {
            let active = s.roster.active.count
            return
                "version \(s.version), signed by the root \(s.issued) (\(active) chapters\(s.retired.isEmpty ? "" : ", \(s.retired.count) retired"); digest \(s.digest.hex.prefix(16)))"
        }
        return folder.map { "unsigned: the TOML folder \($0)" } ?? "none"
    }

    var json: JSONValue {
        guard let s = signed else { return ["version": .null, "folder": folder.map { .string($0) } ?? .null] }
        return [
            "version": .number(Double(s.version)), "digest": .string(s.digest.hex), "issued": .string(s.issued),
            "root_key": .string(s.rootKey.base64url), "chapters": .array(s.roster.active.map { .string($0.id) }),
            "retired": .array(s.retired.map { .string($0) }),
            "refused": .array(
                refusals.prefix(20).map {
                    [
                        "version": $0.version.map { .number(Double($0)) } ?? .null, "peer": $0.peer.map { .string($0) } ?? .null,
                        "reason": .string($0.reason), "at": .string(Instant.format($0.at)),
                    ]
                }),
        ]
    }
}

/// `--dir`: the federation root's folder (the CA's holder's).
struct RootFolder: ParsableArguments {
    @Option(help: ArgumentHelp("The federation root's folder: ca.pem, ca-key.pem, roster-key, roster.json.", valueName: "dir"))
    var dir = "certs"

    var root: RosterRoot { RosterRoot(dir: dir) }
}

/// Reads a file named on the command line (`-` for standard input).
func readInput(_ path: String) throws -> [UInt8] {
    if path == "-" { return Array(FileHandle.standardInput.readDataToEndOfFile()) }
    guard let data = FileManager.default.contents(atPath: path) else { throw ValidationError("cannot read \(path)") }
    return Array(data)
}

extension RosterCommand {
    /// Hands a version the root just signed to a node the root holder runs (optional): it spreads from there.
    static func deliver(_ doc: SignedRoster, from root: RosterRoot, to data: String?) throws {
        guard let data else {
            Out.line("Signed roster version \(doc.version). Install it on a node: aces roster install \(root.rosterFile)")
            return
        }
        let node = try NodeDirectory.open(data)
        try node.install(doc)
        Out.line("Roster version \(doc.version) installed on node '\(node.chapter)'; sync carries it to every node.")
    }

    struct InitRoot: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "init",
            abstract: "Become the roster's root: create the roster key beside the CA and sign version 1 from a folder of chapter files.",
            discussion:
                "Example: aces roster init --dir certs --from chapters, then on each node: aces roster install --trust certs/roster.json"
        )
        @OptionGroup var folder: RootFolder
        @Option(help: ArgumentHelp("The folder of chapter TOML files that becomes version 1.", valueName: "dir"))
        var from = "chapters"

        func run() throws {
            let (_, doc) = try RosterRoot.create(in: folder.dir, chapters: try Roster.load(from: from).chapters)
            Out.line("Signed roster version 1 with \(doc.chapters.count) chapters: \(folder.root.rosterFile)")
            Out.line("The roster key is \(folder.root.keyFile) (mode 0600); keep it with ca-key.pem, off the nodes.")
        }
    }

    struct Approve: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Approve a chapter's join request: issue its certificate, sign the roster that lists it, print the bundle.",
            discussion: "Example: aces roster approve es.request --dir certs --data /var/lib/aces > es.bundle")
        @Argument(help: ArgumentHelp("The file 'aces join request' wrote (- for standard input).", valueName: "request"))
        var request: String
        @OptionGroup var folder: RootFolder
        @Option(
            name: .customLong("data"),
            help: ArgumentHelp("A node of the root holder's to install the new roster on (it spreads from there).", valueName: "dir"))
        var data: String?

        func run() throws {
            let bundle = try folder.root.approve(try JoinRequest(bytes: try readInput(request)))
            if let data { try NodeDirectory.open(data).install(bundle.roster) }
            Out.json(try bundle.json)
            var err = StandardError()
            print(
                "Approved chapter '\(bundle.chapter)': roster version \(bundle.roster.version)\(data.map { ", installed on \($0)" } ?? "")",
                to: &err)
        }
    }

    struct Retire: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Retire a chapter: its keys stop now, every node stops syncing with it and refuses its certificate.",
            discussion: "Example: aces roster retire uk --dir certs --data /var/lib/aces")
        @Argument(help: ArgumentHelp("The chapter id.", valueName: "id")) var chapter: String
        @OptionGroup var folder: RootFolder
        @Option(
            name: .customLong("data"),
            help: ArgumentHelp("A node of the root holder's to install the new roster on (it spreads from there).", valueName: "dir"))
        var data: String?

        func validate() throws {
            guard ChapterID(chapter) != nil else { throw ValidationError("the chapter: \(ChapterID.rule)") }
        }

        func run() throws {
            let doc = try folder.root.retire(ChapterID(chapter)!)
            Out.line("Chapter '\(chapter)' retired in roster version \(doc.version).")
            try RosterCommand.deliver(doc, from: folder.root, to: data)
        }
    }

    struct Install: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Install a signed roster on this node (a running node takes it within a second).",
            discussion:
                "A node takes only a higher version signed by the root it trusts. --trust makes a node that holds no signed roster yet trust the file's root key."
        )
        @Argument(help: ArgumentHelp("The signed roster (roster.json).", valueName: "file")) var file: String
        @OptionGroup var node: NodeOptions
        @Flag(help: "Trust the root key of this roster (only for a node that holds none yet).") var trust = false

        func run() throws {
            let dir = try node.node()
            let doc = try SignedRoster(bytes: try readInput(file))
            if try dir.install(doc, trusting: trust) {
                Out.line("Node '\(dir.chapter)' now holds roster version \(doc.version).")
            } else {
                Out.line("Node '\(dir.chapter)' already holds roster version \(doc.version) or later.")
            }
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show the roster this node holds: version, chapters, and any roster refused.")
        @OptionGroup var node: NodeOptions
        @OptionGroup var output: OutputOptions

        func run() throws {
            let dir = try node.node()
            let summary = try RosterSummary(dir, try dir.openStore())
            if output.json { return Out.json(summary.json) }
            Out.line("roster   \(summary.line)")
            if let s = summary.signed {
                Out.line("root key \(s.rootKey.base64url)")
                Out.line()
                Out.table(
                    ["CHAPTER", "NAME", "FEDERATION URL", "KEYS", "ROLES", "STATE"],
                    s.chapters.map { p in
                        [
                            p.id, p.name, p.federationURL ?? "", p.keys.map(\.id).joined(separator: " "),
                            (p.roles ?? []).joined(separator: " "),
                            s.retired.contains(p.id) ? "retired" : "active",
                        ]
                    })
            }
            for r in summary.refusals.prefix(10) {
                Out.line("REFUSED  roster\(r.version.map { " version \($0)" } ?? "") from \(r.peer ?? "this host"): \(r.reason)")
            }
        }
    }

    struct Export: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write the signed roster this node holds as a folder of chapter TOML files (an export, not the source of truth).")
        @OptionGroup var node: NodeOptions
        @Option(help: ArgumentHelp("The folder to write.", valueName: "dir")) var to = "chapters"

        func run() throws {
            let dir = try node.node()
            guard let s = try dir.signedRoster() else { throw ValidationError("this node holds no signed roster") }
            for p in s.roster.active { try Roster.write(p, to: to) }
            Out.line("Wrote \(s.roster.active.count) chapter files of roster version \(s.version) to \(to)")
        }
    }
}

struct JoinCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "join", abstract: "Join a federation: make this chapter's keys and the request the root approves.",
        subcommands: [Request.self])

    struct Request: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create the node (signing key, TLS key) and print its join request; no private key is in it.",
            discussion: """
                Send the request to the federation root, who answers with a bundle; then run \\
                'aces init --join BUNDLE --data DIR' and 'aces serve --data DIR'. Example: aces join request --data ./es \\
                --chapter es --federation-url https://aces.example.es:7443 --public-url https://aces.example.es > es.request
                """)
        @OptionGroup var node: NodeOptions
        @Option(help: ArgumentHelp("The chapter id (for example es).", valueName: "id")) var chapter: String
        @Option(help: ArgumentHelp("The chapter's name (default: known from its id).", valueName: "name")) var name: String?
        @Option(help: ArgumentHelp("ISO 3166-1 alpha-2 country code.", valueName: "cc")) var country: String?
        @Option(help: ArgumentHelp("IANA time zone.", valueName: "zone")) var timezone: String?
        @Option(help: ArgumentHelp("The URL peers reach this node's federation listener at (with its port).", valueName: "url"))
        var federationURL: String
        @Option(help: ArgumentHelp("The URL of its public listener.", valueName: "url")) var publicURL: String?
        @Option(
            name: .customLong("host"),
            help: ArgumentHelp(
                "Another DNS name or address for its certificate (the federation URL's host is always in).", valueName: "host"))
        var hosts: [String] = []

        func validate() throws {
            guard ChapterID(chapter) != nil else { throw ValidationError("--chapter: \(ChapterID.rule)") }
            guard let u = URL(string: federationURL), u.scheme == "https", u.host != nil, u.port != nil else {
                throw ValidationError("--federation-url must be an https URL with a port, like https://aces.example.es:7443")
            }
        }

        func run() throws {
            var p = ChapterProfile.known(ChapterID(chapter)!)
            p.name = name ?? p.name
            p.country = country ?? p.country
            p.timezone = timezone ?? p.timezone
            p.federationURL = federationURL
            p.publicURL = publicURL
            let host = URL(string: federationURL)!.host!
            let (dir, request) = try JoinRequest.make(at: try node.path, profile: p, hosts: [host] + hosts.filter { $0 != host })
            Out.json(try request.json)
            var err = StandardError()
            print(
                "Created node '\(chapter)' in \(dir.path) (its keys stay there). Send this request to the federation root; then: aces init --join BUNDLE --data \(dir.path)",
                to: &err)
        }
    }

    /// `aces init --join BUNDLE`.
    static func complete(data: String, bundle: String) throws {
        let b = try JoinBundle(bytes: try readInput(bundle))
        let node = try b.complete(try NodeDirectory.open(data))
        Out.line("Node '\(node.chapter)' is complete: roster version \(b.roster.version), \(b.roster.roster.active.count) chapters.")
        Out.line("Start it with: aces serve --data \(node.path)")
    }
}

/// Standard error, for the sentences beside a command's JSON output.
struct StandardError: TextOutputStream {
    mutating func write(_ string: String) { FileHandle.standardError.write(Data(string.utf8)) }
}
