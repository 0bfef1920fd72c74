import Foundation

/// What this process holds in memory, as Linux reports it: `aces sync --json` and the benchmark
/// print it.
public enum ProcessMemory {
    /// Peak resident set size of this process, in MB (Linux `VmHWM`).
    public static func peakRSSMegabytes() -> Double {
        guard let text = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
            let line = text.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") })
        else { return 0 }
        let kb = Double(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "0") ?? 0
        return kb / 1024
    }

    /// Resident set size of this process now, in MB (Linux `VmRSS`).
    public static func residentMegabytes() -> Double {
        guard let text = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
            let line = text.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") })
        else { return 0 }
        return (Double(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "0") ?? 0) / 1024
    }
}
