import AcesCore
import AcesFormats
import AcesNodeFiles
import AcesStore
import AcesWorkflows
import Foundation

/// Scenario 2: importing N new members from a spreadsheet (semicolons, accented names) through
/// `aces member import`'s own code: read, check every row against the replica, author signed
/// entries 2,000 per transaction, make them searchable. Returns entries/s.
public struct ImportBench: Sendable {
    public let members: Int
    public init(members: Int) { self.members = members }

    /// The spreadsheet: a header and `members` rows.
    public func csv() -> [UInt8] {
        var sample = SampleData(seed: 3)
        let chapter = ChapterID("fr")!
        let header = ["Courriel", "Nom", "Organisation", "Fonction", "Ville", "Pays", "Bio", "Visibilité"]
        let rows: [[String]] = (0..<members).map { i in
            let v = sample.member(chapter: chapter, n: i)
            return ["email", "name", "organisation", "role", "city", "country", "bio", "visibility"].map { v[$0]?.stringValue ?? "" }
        }
        return CSVWriter.write(header: header, rows: rows, separator: UInt8(ascii: ";"), bom: true)
    }

    public func run(into directory: NodeDirectory) throws -> Double {
        let bytes = csv()
        let store = try directory.openStore()
        let start = DispatchTime.now().uptimeNanoseconds
        let table = try CSVReader.read(bytes)
        let plan = try MemberImport.plan(table, chapter: directory.chapter, store: store)
        guard plan.problems.isEmpty, plan.added.count == members else {
            throw StoreError.invalid("the benchmark's spreadsheet did not plan cleanly: \(plan.problems.first?.reason ?? "")")
        }
        try plan.apply(Editor(directory: directory, store: store))
        return Double(members) / Bench.seconds(since: start)
    }
}
