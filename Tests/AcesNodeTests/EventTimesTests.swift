import AcesCore
import AcesWorkflows
import Testing

/// One reading of an event's times for the CLI and the admin API (`Editor.eventTimes`): the CLI
/// words its errors for options, the API for fields, but both accept and refuse the same times.
@Suite struct EventTimesTests {
    func times(_ raw: [String: JSONValue]) throws(EventTimeError) -> [String: JSONValue] {
        try Editor.eventTimes(raw, current: nil)
    }

    @Test func localWallTimesBecomeInstantsInTheEventsZoneAndInstantsStay() throws {
        let read = try times(["start": "2027-03-14T18:30", "end": "2027-03-14T21:00:00Z", "timezone": "Europe/Paris", "title": "T"])
        #expect(read["start"] == "2027-03-14T17:30:00Z", "18:30 in Paris in March is 17:30 UTC")
        #expect(read["end"] == "2027-03-14T21:00:00Z")
        #expect(read["title"] == "T", "other fields are returned as given")
    }

    @Test func aTimeThatDoesNotExistInTheZoneIsRefusedNotShifted() {
        // Clocks in Paris jump from 02:00 to 03:00 on 28 March 2027.
        #expect(throws: EventTimeError.notATime(field: "start", text: "2027-03-28T02:30", zone: "Europe/Paris")) {
            try times(["start": "2027-03-28T02:30", "end": "2027-03-28T04:00", "timezone": "Europe/Paris"])
        }
    }

    @Test func eachMistakeHasItsOwnReason() {
        #expect(throws: EventTimeError.zoneRequired(field: "start")) { try times(["start": "2027-03-14T18:30"]) }
        #expect(throws: EventTimeError.unknownZone("Europe/Lutetia")) {
            try times(["start": "2027-03-14T18:30", "timezone": "Europe/Lutetia"])
        }
        #expect(throws: EventTimeError.notATime(field: "end", text: "14/03/2027", zone: "Europe/Paris")) {
            try times(["start": "2027-03-14T18:30", "end": "14/03/2027", "timezone": "Europe/Paris"])
        }
        #expect(throws: EventTimeError.endNotAfterStart) {
            try times(["start": "2027-03-14T18:30", "end": "2027-03-14T18:30", "timezone": "Europe/Paris"])
        }
        #expect(EventTimeError.endNotAfterStart.description == "the event must end after it starts")
    }
}
