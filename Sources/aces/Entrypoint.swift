import AcesCLI

/// The `aces` executable: parses the command line and calls into AcesCLI.
@main
enum Entrypoint {
    static func main() async {
        await AcesCommand.main()
    }
}
