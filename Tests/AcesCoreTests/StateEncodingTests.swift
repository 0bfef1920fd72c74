import AcesCore
import Foundation
import Testing

/// The merge state stored beside each record reads back exactly as it was written, and what it
/// cannot hold is said, never dropped.
@Suite struct StateEncodingTests {
    func v(_ origin: String, _ seq: Int64) -> Version { Version(origin: ChapterID(origin)!, seq: seq) }
    func stamp(_ origin: String, _ seq: Int64, _ millis: Int64) -> Stamp {
        Stamp(hlc: HLC(millis: millis, counter: seq % 7), version: v(origin, seq))
    }

    @Test func statesRoundTripInBothFormats() {
        var plain = RecordState()
        plain.fields[0] = FieldHeads(heads: [stamp("fr", 1, 1_800_000_000_000)])
        plain.fields[3] = FieldHeads(heads: [stamp("de", 4, 1_800_000_000_100), stamp("uk", 9, 1_800_000_000_050)], pending: [v("it", 2)])
        plain.fields[RecordState.removedIndex] = FieldHeads(heads: [stamp("fr", 2, 1_800_000_000_200)])
        #expect(plain.encoded.first == 1)
        #expect(RecordState(encoded: plain.encoded) == plain)

        var covering = plain
        covering.covered = [v("de", 4), v("uk", 9)]
        covering.erased = true
        #expect(covering.encoded.first == 2)
        #expect(RecordState(encoded: covering.encoded) == covering)
        #expect(RecordState(encoded: Array(covering.encoded.dropLast())) == nil)
    }

    @Test func aStateAtTheHeadBoundRoundTripsAndOneBeyondIsNamed() {
        var state = RecordState()
        state.fields[2] = FieldHeads(heads: (1...Int64(RecordState.maxHeads)).map { stamp("de", $0, 1_800_000_000_000 + $0) })
        #expect(state.fieldBeyondBound == nil)
        #expect(RecordState(encoded: state.encoded) == state)
        state.fields[2]?.heads.append(stamp("de", 9_999, 1_900_000_000_000))
        #expect(state.fieldBeyondBound == 2)
        var pending = RecordState()
        pending.fields[1] = FieldHeads(pending: (1...Int64(RecordState.maxHeads + 1)).map { v("uk", $0) })
        #expect(pending.fieldBeyondBound == 1)
    }
}

/// Local wall times in an event's time zone: a time the clocks skip does not exist.
@Suite struct LocalTimeTests {
    @Test func aTimeInASpringForwardGapIsRefused() {
        #expect(Instant.fromLocal("2027-03-28T02:30", zone: "Europe/Paris") == nil)
        #expect(Instant.fromLocal("2027-03-14T02:30", zone: "America/New_York") == nil)
        #expect(Instant.fromLocal("2027-03-28T01:59", zone: "Europe/Paris").map(Instant.format) == "2027-03-28T00:59:00Z")
        #expect(Instant.fromLocal("2027-03-28T03:00", zone: "Europe/Paris").map(Instant.format) == "2027-03-28T01:00:00Z")
    }

    @Test func aTimeTheClocksRepeatIsOneOfItsTwoInstants() {
        let d = Instant.fromLocal("2027-10-31T02:30", zone: "Europe/Paris").map(Instant.format)
        #expect(d == "2027-10-31T00:30:00Z" || d == "2027-10-31T01:30:00Z")
        #expect(Instant.fromLocal("2027-10-31T03:30", zone: "Europe/Paris").map(Instant.format) == "2027-10-31T02:30:00Z")
    }
}
