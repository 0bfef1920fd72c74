import ArgumentParser

/// The development tools' commands: the demo federation, a local federation in a folder, the benchmark with its two helper
/// processes. The `aces` executable lists them after the operators' commands.
public enum DevelopmentCommands {
    public static let all: [any ParsableCommand.Type] = [
        DemoCommand.self, FederationCommand.self, BenchCommand.self, BenchSeedCommand.self, BenchLoadCommand.self,
    ]
}
