import AcesCore
import AcesNode
import ArgumentParser

struct InitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "init",
        abstract: "Create a node: data directory, SQLite replica, signing key and configuration.",
        discussion: "Refuses to overwrite an existing node. Example: aces init --data /var/lib/aces --chapter fr"
    )

    @OptionGroup var node: NodeOptions
    @Option(help: ArgumentHelp("The chapter this node serves (for example fr).", valueName: "id"))
    var chapter: String = ""
    @Option(help: ArgumentHelp("The roster folder of chapter files, relative to the data directory or absolute.", valueName: "dir"))
    var roster: String?
    @Option(help: ArgumentHelp("Complete the node 'aces join request' made with the bundle the root approved.", valueName: "bundle"))
    var join: String?
    @OptionGroup var output: OutputOptions

    func validate() throws {
        guard join != nil || ChapterID(chapter) != nil else { throw ValidationError("--chapter: \(ChapterID.rule)") }
    }

    func run() throws {
        if let join { return try JoinCommand.complete(data: try node.path, bundle: join) }
        let dir = try NodeDirectory.initialize(at: try node.path, chapter: ChapterID(chapter)!, roster: roster)
        let key = dir.config.keys[0]
        if output.json {
            Out.json(["data": .string(dir.path), "chapter": .string(chapter), "key": .string(key.id), "public_key": .string(key.publicKey)])
        } else {
            Out.line("Created node '\(chapter)' in \(dir.path)")
            Out.line("Signing key \(key.id) (public \(key.publicKey)); the private key is in \(dir.path)/\(key.file ?? ""), mode 0600.")
        }
    }
}
