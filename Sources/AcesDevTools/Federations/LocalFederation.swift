import AcesCore
import AcesNodeFiles
import AcesServer
import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// A complete federation in one folder, for development, demos and tests: the CA, a certificate
/// per chapter, the roster, and one initialised data directory per chapter on loopback ports.
public enum LocalFederation {
    /// Creates the federation in `dir` (which must not exist or be empty). `ports` gives, per
    /// chapter, its web and federation ports; by default `basePort + 2i` and `basePort + 2i + 1`.
    @discardableResult
    public static func create(
        at dir: String, chapters: [ChapterID], basePort: Int = 7100, ports: [(web: Int, federation: Int)]? = nil,
        syncInterval: Double = 30, host: String = "127.0.0.1", signedRoster: Bool = false
    ) throws -> [NodeDirectory] {
        let fm = FileManager.default
        guard Set(chapters).count == chapters.count, !chapters.isEmpty else {
            throw NodeError.config("name each chapter once, e.g. --chapters fr,uk,de")
        }
        if let existing = try? fm.contentsOfDirectory(atPath: dir), !existing.isEmpty {
            throw NodeError.config("\(dir) already exists and is not empty; choose a new folder")
        }
        try fm.createDirectory(atPath: dir + "/certs", withIntermediateDirectories: true)
        let ca = try FederationCA.create()
        try FederationCA.write(ca, certificate: dir + "/certs/ca.pem", privateKey: dir + "/certs/ca-key.pem")
        var nodes = [NodeDirectory]()
        for (i, c) in chapters.enumerated() {
            let p: (web: Int, federation: Int) = ports?[i] ?? (basePort + 2 * i, basePort + 2 * i + 1)
            let cert = try FederationCA.issue(chapter: c, ca: ca, hosts: [host, "localhost"])
            try FederationCA.write(cert, certificate: dir + "/certs/\(c).pem", privateKey: dir + "/certs/\(c)-key.pem")
            var node = try NodeDirectory.initialize(at: dir + "/\(c)", chapter: c, roster: "../chapters")
            var config = node.config
            config.federation = .init(
                listen: "\(host):\(p.federation)", url: "https://\(host):\(p.federation)", certificate: "../certs/\(c).pem",
                privateKey: "../certs/\(c)-key.pem", ca: "../certs/ca.pem")
            config.web = .init(listen: "\(host):\(p.web)", url: "http://\(host):\(p.web)")
            config.sync = .init(intervalSeconds: syncInterval)
            node = try node.saving(config)
            try node.publishToRoster()
            nodes.append(node)
        }
        if signedRoster {
            // The CA's holder becomes the roster's root: version 1 lists every chapter, and each
            // node trusts it from the start (as 'aces init --join' would).
            let (_, doc) = try RosterRoot.create(in: dir + "/certs", chapters: try Roster.load(from: dir + "/chapters").chapters)
            for n in nodes { try n.install(doc, trusting: true) }
        }
        return nodes
    }

    /// `n` distinct TCP ports that are free on loopback right now, taken at random below the
    /// kernel's ephemeral range: outgoing connections take their local ports from that range, so a
    /// port found free there can be taken by some client before a listener binds it.
    public static func freePorts(_ n: Int) -> [Int] {
        let high = ephemeralLow()
        var out = [Int]()
        var tries = 0
        while out.count < n && tries < 20_000 {
            tries += 1
            let p = Int.random(in: 10_000..<high)
            if !out.contains(p) && PortCheck.canListen(host: "127.0.0.1", port: p) && reserve([p]) { out.append(p) }
        }
        return out
    }

    /// Ports this process handed out already: a port is free when checked, but the node it is for
    /// may bind it only seconds later, so two federations made at once must never be given the same one.
    private static let handedOut = Mutex(Set<Int>())

    /// Marks `ports` as handed out; false if one of them already was.
    private static func reserve(_ ports: [Int]) -> Bool {
        handedOut.withLock { taken in
            guard taken.isDisjoint(with: ports) else { return false }
            taken.formUnion(ports)
            return true
        }
    }

    /// A port with `count` consecutive free ports from it (for `aces federation create
    /// --base-port`), below the ephemeral range like `freePorts`.
    public static func freeBasePort(_ count: Int) -> Int {
        let high = ephemeralLow() - count
        for _ in 0..<20_000 {
            let base = Int.random(in: 10_000..<high)
            if (0..<count).allSatisfy({ PortCheck.canListen(host: "127.0.0.1", port: base + $0) }) && reserve(Array(base..<base + count)) {
                return base
            }
        }
        return 10_000
    }

    /// The first port of the kernel's ephemeral range (32768 unless configured otherwise).
    static func ephemeralLow() -> Int {
        let text = (try? String(contentsOfFile: "/proc/sys/net/ipv4/ip_local_port_range", encoding: .utf8)) ?? ""
        let low = text.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" }).first.flatMap { Int($0) } ?? 32_768
        return max(low, 12_000)
    }
}
