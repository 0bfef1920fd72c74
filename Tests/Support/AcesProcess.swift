import Foundation

/// Runs the built `aces` executable, as a user would.
public struct AcesProcess {
    public struct Result: Sendable {
        public let status: Int32
        public let stdout: String
        public let stderr: String
    }

    /// The `aces` binary beside the test bundle (both are built by `swift test`).
    public static var executable: String {
        let bundle = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        for dir in [bundle, bundle.deletingLastPathComponent()] {
            let candidate = dir.appendingPathComponent("aces").path
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        return root.appendingPathComponent(".build/debug/aces").path
    }

    /// Runs `aces args…` and waits for it.
    @discardableResult
    public static func run(_ args: [String], environment: [String: String] = [:]) throws -> Result {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: executable)
        p.arguments = args
        var env = ProcessInfo.processInfo.environment
        env.removeValue(forKey: "ACES_DATA")
        for (k, v) in environment { env[k] = v }
        p.environment = env
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        let o = out.fileHandleForReading.readDataToEndOfFile()
        let e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return Result(
            status: p.terminationStatus, stdout: String(decoding: o, as: UTF8.self), stderr: String(decoding: e, as: UTF8.self))
    }

    /// A child left running (a server), its output discarded.
    public final class Running: @unchecked Sendable {
        let process: Process
        init(_ process: Process) { self.process = process }

        /// Its process id.
        public var pid: Int32 { process.processIdentifier }

        /// For `defer` in async code: sends SIGTERM without waiting (a no-op once it exited).
        public func signalStop() {
            if process.isRunning { process.terminate() }
        }

        /// Stops it with SIGTERM and waits for it to exit.
        public func stop() {
            if process.isRunning { process.terminate() }
            process.waitUntilExit()
        }

        /// Sends SIGTERM and waits at most `seconds` for it to exit: the seconds it took, or nil
        /// when it was still running (it is then killed, so no test leaves a process behind).
        public func terminate(within seconds: Double) async -> Double? {
            // Timed on a thread of its own: the pool this test shares with other suites' servers
            // can be busy for seconds on a loaded machine, which would be counted against the node.
            return await onOwnThread { [self] in
                let start = DispatchTime.now().uptimeNanoseconds
                func elapsed() -> Double { Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9 }
                if process.isRunning { process.terminate() }
                while process.isRunning && elapsed() < seconds { usleep(2_000) }
                if process.isRunning {
                    kill(process.processIdentifier, SIGKILL)
                    process.waitUntilExit()
                    return nil
                }
                return elapsed()
            }
        }
    }

    /// Starts the executable and returns without waiting.
    public static func start(_ args: [String]) throws -> Running {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: executable)
        p.arguments = args + ["--log-level", "critical"]
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        return Running(p)
    }

    /// `run` from async code, on a thread of its own: waiting for a child must not hold one of
    /// the few threads that also run this process's in-process servers (on a 2-core machine a
    /// blocked pool starves them, and a child talking to them then times out).
    public static func runAsync(_ args: [String], environment: [String: String] = [:]) async throws -> Result {
        try await onOwnThread {
            // At most two children at a time, as many as the machine has cores: dozens of CPU-bound
            // children at once would starve the servers other suites run in this process, whose
            // peers then time out connecting to them.
            childSlots.wait()
            defer { childSlots.signal() }
            return Swift.Result { try run(args, environment: environment) }
        }.get()
    }

    /// Bounds the `aces` children the tests run at once (see `runAsync`).
    static let childSlots = DispatchSemaphore(value: max(2, ProcessInfo.processInfo.activeProcessorCount))
}

/// Runs blocking work (a socket read loop, a pause) on a thread of its own and waits for it
/// without holding one of the concurrency pool's few threads, which the nodes a test serves in
/// its own process need (on a 2-core machine two blocked pool threads starve every one of them).
public func onOwnThread<T: Sendable>(_ work: @escaping @Sendable () -> T) async -> T {
    await withCheckedContinuation { continuation in
        Thread.detachNewThread { continuation.resume(returning: work()) }
    }
}
