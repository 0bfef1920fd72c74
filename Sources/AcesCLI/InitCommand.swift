import AcesCore
import AcesNodeFiles
import ArgumentParser
import Foundation

struct InitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "init",
        abstract: "Create a node: data directory, SQLite replica, signing key and configuration.",
        discussion: """
            Refuses to overwrite an existing node. Alone, it makes a node that serves its directory on a public listener \
            (default 127.0.0.1:8080) and syncs with no one. With --federation-listen it also gets a federation listener \
            (mutual TLS), whose certificate, key and CA it expects in tls/ unless told otherwise. \
            Example: aces init --data /var/lib/aces --chapter fr --roster chapters --listen 127.0.0.1:8080 \
            --url https://aces.example.fr --federation-listen 0.0.0.0:7443 --federation-url https://fr.aces.example:7443
            """
    )

    @OptionGroup var node: NodeOptions
    @Option(help: ArgumentHelp("The chapter this node serves (for example fr).", valueName: "id"))
    var chapter: String = ""
    @Option(help: ArgumentHelp("The roster folder of chapter files, relative to the data directory or absolute.", valueName: "dir"))
    var roster: String?
    @Option(help: ArgumentHelp("Complete the node 'aces join request' made with the bundle the root approved.", valueName: "bundle"))
    var join: String?
    @Option(help: ArgumentHelp("host:port of the public listener (default 127.0.0.1:8080).", valueName: "host:port"))
    var listen: String?
    @Option(help: ArgumentHelp("The public address people use (default http://<listen>).", valueName: "url"))
    var url: String?
    @Option(help: ArgumentHelp("host:port of the federation listener (mutual TLS); none by default.", valueName: "host:port"))
    var federationListen: String?
    @Option(help: ArgumentHelp("How peers reach the federation listener (default https://<federation-listen>).", valueName: "url"))
    var federationURL: String?
    @Option(help: ArgumentHelp("The node's TLS certificate (default tls/<chapter>.pem).", valueName: "file"))
    var certificate: String?
    @Option(help: ArgumentHelp("The node's TLS private key (default tls/<chapter>-key.pem).", valueName: "file"))
    var privateKey: String?
    @Option(help: ArgumentHelp("The federation CA certificate (default tls/ca.pem).", valueName: "file"))
    var ca: String?
    @Option(help: ArgumentHelp("Comma-separated chapters to pull from (default: every other chapter of the roster).", valueName: "ids"))
    var peers: String?
    @OptionGroup var output: OutputOptions

    func validate() throws {
        guard join != nil || ChapterID(chapter) != nil else { throw ValidationError("--chapter: \(ChapterID.rule)") }
        for (name, value) in [("--listen", listen), ("--federation-listen", federationListen)] {
            if let value, HostPort(value) == nil {
                throw ValidationError("\(name) '\(value)' is not host:port (for example 127.0.0.1:8080)")
            }
        }
        for (name, value) in [("--url", url), ("--federation-url", federationURL)] {
            guard let value else { continue }
            guard let u = URL(string: value), ["http", "https"].contains(u.scheme ?? ""), u.host != nil else {
                throw ValidationError("\(name) '\(value)' is not an http(s) URL with a host (for example https://aces.example.fr)")
            }
        }
        if federationListen == nil, federationURL != nil || certificate != nil || privateKey != nil || ca != nil {
            throw ValidationError("--federation-url, --certificate, --private-key and --ca need --federation-listen")
        }
        for p in (peers ?? "").split(separator: ",") where ChapterID(String(p)) == nil {
            throw ValidationError("--peers: '\(p)' is not a chapter id; \(ChapterID.rule)")
        }
        if peers != nil, roster == nil { throw ValidationError("--peers needs --roster (the folder that lists those chapters)") }
    }

    func run() throws {
        if let join { return try JoinCommand.complete(data: try node.path, bundle: join) }
        let id = ChapterID(chapter)!
        var dir = try NodeDirectory.initialize(at: try node.path, chapter: id, roster: roster)
        var config = dir.config
        // Without --listen or --url, aces.toml has no [web]: 'aces serve' uses 127.0.0.1:8080, and
        // nothing that needs the public address (sign-in links) pretends to know it.
        if listen != nil || url != nil {
            let address = listen ?? NodeConfig.WebConfig.standard.listen
            config.web = .init(listen: address, url: url ?? "http://\(address)")
        }
        let web = config.web ?? NodeConfig.WebConfig.standard
        if let federationListen {
            config.federation = .init(
                listen: federationListen, url: federationURL ?? "https://\(federationListen)", certificate: certificate ?? "tls/\(id).pem",
                privateKey: privateKey ?? "tls/\(id)-key.pem", ca: ca ?? "tls/ca.pem")
        }
        if let peers { config.sync = .init(peers: peers.split(separator: ",").map(String.init)) }
        dir = try dir.saving(config)
        let key = dir.config.keys[0]
        if output.json {
            Out.json([
                "data": .string(dir.path), "chapter": .string(chapter), "key": .string(key.id), "public_key": .string(key.publicKey),
                "public_listener": .string(web.listen), "federation_listener": config.federation.map { .string($0.listen) } ?? .null,
            ])
        } else {
            Out.line("Created node '\(chapter)' in \(dir.path)")
            Out.line("Signing key \(key.id) (public \(key.publicKey)); the private key is in \(dir.path)/\(key.file ?? ""), mode 0600.")
            if config.web == nil {
                Out.line(
                    "Public listener: \(web.listen) (the default; no [web] in aces.toml): the directory and calendar. Give --url to 'aces init' for sign-in links."
                )
            } else {
                Out.line("Public listener: \(web.listen) (\(web.url)): the directory and calendar.")
            }
            if let f = config.federation {
                Out.line(
                    "Federation listener (mutual TLS): \(f.listen) (\(f.url)); put its certificate in \(dir.resolve(f.certificate)), its key in \(dir.resolve(f.privateKey)) (mode 0600) and the federation CA in \(dir.resolve(f.ca)), then run 'aces config check --data \(dir.path)'."
                )
            } else {
                Out.line(
                    "No federation listener: this node serves its directory but syncs with no one (give --federation-listen to 'aces init' for a node of the federation). Start it with 'aces serve --data \(dir.path)'."
                )
            }
        }
    }
}
