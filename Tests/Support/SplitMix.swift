/// SplitMix64: a small seeded generator, so random tests (properties, fuzzing) are repeatable and
/// a failure can be replayed from its seed.
public struct SplitMix: RandomNumberGenerator {
    public var state: UInt64

    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A number in `0..<n` (0 when `n` is 0).
    public mutating func int(_ n: Int) -> Int { Int(next() % UInt64(max(1, n))) }
    /// One element of `a`.
    public mutating func pick<T>(_ a: [T]) -> T { a[int(a.count)] }
    /// `n` random bytes.
    public mutating func bytes(_ n: Int) -> [UInt8] { (0..<n).map { _ in UInt8(truncatingIfNeeded: next()) } }
}
