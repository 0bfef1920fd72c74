import AcesCore
import AcesDevTools
import Foundation
import Testing

/// `aces demo`'s sample data reads like a real association: distinct people whose role, employer
/// and biography agree, events held in the city they name, a few members with a web link.
@Suite struct SampleDataTests {
    @Test func membersHaveDistinctNamesAndCoherentRolesBiographiesAndEmployers() {
        for (seed, chapter) in ["fr", "uk", "de"].enumerated() {
            var sample = SampleData(seed: UInt64(seed + 1))
            let members = (0..<60).map { sample.member(chapter: ChapterID(chapter)!, n: $0) }
            let names = members.compactMap { $0["name"]?.stringValue }
            #expect(Set(names).count == names.count, "no name appears twice in \(chapter)")
            for m in members {
                let role = m["role"]?.stringValue ?? "", bio = m["bio"]?.stringValue ?? "", org = m["organisation"]?.stringValue ?? ""
                #expect(org == "Independent" || bio.contains(org), "the biography names the employer: \(bio) / \(org)")
                let parts = bio.lowercased().components(separatedBy: " and ").map { $0.split(whereSeparator: { !$0.isLetter }) }
                for (before, after) in zip(parts, parts.dropFirst()) {
                    #expect(before.last != after.first, "nothing is said twice: \(bio)")
                }
                for other in ["Community manager", "Press officer", "Data journalist", "Video producer"] where other != role {
                    #expect(!bio.localizedCaseInsensitiveContains(other), "\(role)'s biography does not name another role: \(bio)")
                }
                #expect(FieldValidationCheck.valid(m), "\(m)")
            }
            #expect(members.filter { $0["links"] != nil }.count >= 5, "a few members list a web link")
        }
    }

    @Test func eventsAreHeldInTheCityTheirTitleNames() {
        var sample = SampleData(seed: 3)
        for chapter in ["fr", "uk", "de"] {
            for day in 0..<30 {
                let e = sample.event(chapter: ChapterID(chapter)!, from: Date(timeIntervalSince1970: 1_900_000_000), daysAhead: day)
                let title = e["title"]?.stringValue ?? "", venue = e["venue"]?.stringValue ?? ""
                let city = title.components(separatedBy: " — ").last ?? ""
                #expect(!city.isEmpty && venue.hasSuffix(", \(city)"), "\(title) at \(venue)")
            }
        }
    }
}

/// Every value passes the field checks every node applies.
enum FieldValidationCheck {
    static func valid(_ values: [String: JSONValue]) -> Bool {
        values.allSatisfy { name, value in (try? RecordKind.member.field(name)?.validate(value)) != nil }
    }
}
