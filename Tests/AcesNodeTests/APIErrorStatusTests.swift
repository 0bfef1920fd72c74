import AcesCore
import AcesStore
import Hummingbird
import HummingbirdTesting
import Testing

@testable import AcesWeb

/// The API answers a store error with the status of its case, never one guessed from its text.
@Suite struct APIErrorStatusTests {
    static let id = "0193f0c2-7b1e-7c3a-9d2e-5f6a7b8c9d0e"
    static let cases: [(StoreError, Int)] = [
        (.notFound(.member, id), 404), (.invalid("a bad value"), 400),
        // A sentence that happens to say "already" is still a bad value.
        (.invalid("this link was already shortened; give the full URL"), 400),
        (.duplicateEmail(existing: id), 409), (.alreadyErased(.member, id), 409), (.erased(.member, id), 409),
        (.frozen(ChapterID("de")!), 409), (.tooManyHeads(.member, id, field: "city"), 409),
        (.notOwner("member \(id) belongs to de: fr may not change it"), 403), (.busy, 503), (.restoreLocked(quorum: 2, confirmed: 1), 503),
    ]

    @Test func eachStoreErrorHasTheStatusOfItsCase() async throws {
        let router = Router()
        router.get("/case/:n") { _, context -> Response in
            let n = Int(context.parameters.get("n") ?? "") ?? 0
            return try await APIRouter.api { throw Self.cases[n].0 }
        }
        try await Application(router: router).test(.router) { client in
            for (n, (error, status)) in Self.cases.enumerated() {
                try await client.execute(uri: "/case/\(n)", method: .get) { response in
                    #expect(Int(response.status.code) == status, "\(error)")
                    #expect(String(buffer: response.body).hasPrefix("{\"error\":"), "\(error)")
                }
            }
        }
    }
}
