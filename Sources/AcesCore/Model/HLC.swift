/// A hybrid logical clock timestamp (Kulkarni et al.): wall-clock milliseconds and a counter
/// that orders events within one millisecond. Compared as (millis, counter).
public struct HLC: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// Milliseconds since 1970-01-01T00:00:00Z.
    public var millis: Int64
    /// Logical counter within `millis`.
    public var counter: Int64

    /// The largest counter; a clock that would pass it moves to the next millisecond.
    public static let maxCounter: Int64 = 0xFFFF
    /// The largest millis the protocol accepts (about year 6400: safe in JSON numbers and in `packed`).
    public static let maxMillis: Int64 = (1 << 47) - 1

    public init(millis: Int64, counter: Int64) {
        self.millis = millis
        self.counter = counter
    }

    /// One 64-bit integer with the same order: `millis << 16 | counter`.
    public var packed: Int64 { millis << 16 | counter }

    /// The inverse of `packed`.
    public init(packed: Int64) { self.init(millis: packed >> 16, counter: packed & 0xFFFF) }

    public static func < (a: HLC, b: HLC) -> Bool { (a.millis, a.counter) < (b.millis, b.counter) }
    public var description: String { "\(millis).\(counter)" }
}

/// The node's hybrid logical clock. It never goes backwards, even if the wall clock does,
/// and moves past every timestamp it observes. The wall clock is passed in.
public struct HybridClock: Sendable {
    /// The last timestamp issued or observed.
    public private(set) var last: HLC
    private let wallMillis: @Sendable () -> Int64

    /// A clock that starts after `last` and reads time from `wallMillis`.
    public init(last: HLC = HLC(millis: 0, counter: 0), wallMillis: @escaping @Sendable () -> Int64) {
        self.last = last
        self.wallMillis = wallMillis
    }

    /// A timestamp for a new local event, greater than every timestamp seen so far.
    public mutating func tick() -> HLC {
        let wall = min(wallMillis(), HLC.maxMillis)
        if wall > last.millis {
            last = HLC(millis: wall, counter: 0)
        } else if last.counter < HLC.maxCounter {
            last = HLC(millis: last.millis, counter: last.counter + 1)
        } else {
            last = HLC(millis: last.millis + 1, counter: 0)
        }
        return last
    }

    /// Moves the clock past a timestamp received from another node.
    public mutating func observe(_ remote: HLC) {
        if remote > last { last = remote }
    }
}
