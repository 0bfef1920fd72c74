import AcesNode

/// A base port with `count` free ports above it on loopback, somewhere random between 20,000
/// and 60,000 (so suites running at once rarely meet), for `aces federation create --base-port`.
func freeBasePort(_ count: Int = 4) -> Int {
    for candidate in stride(from: 20_000 + Int.random(in: 0..<2_000) * 10, to: 60_000, by: 10)
    where (0..<count).allSatisfy({ LocalFederation.canListen(host: "127.0.0.1", port: candidate + $0) }) {
        return candidate
    }
    return 0
}
