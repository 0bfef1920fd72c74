import ArgumentParser
import Foundation

/// A data or operating error found while a command runs (a file that cannot be read, invalid rows,
/// a refused write): one sentence that says what to do, exit status 1, and no usage text, since the
/// command line itself was right. swift-argument-parser prints the usage after a `ValidationError`
/// wherever it is thrown, so `ValidationError` is kept for `validate()` (a wrong command line).
struct CLIError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }

    /// `error` as the operator should read it: a `ValidationError` thrown while running becomes a
    /// plain error (no usage), and Foundation's and decoders' dumps become a sentence.
    static func plain(_ error: Error) -> Error {
        switch error {
        case let e as ValidationError: return CLIError(e.message)
        case let e as DecodingError: return CLIError(decoding(e))
        case is ExitCode, is CleanExit: return error
        default:
            let ns = error as NSError
            if ns.domain == NSCocoaErrorDomain { return CLIError(cocoa(ns)) }
            if ns.domain == NSPOSIXErrorDomain { return CLIError("\(String(cString: strerror(Int32(ns.code)))) (\(path(ns)))") }
            return error
        }
    }

    private static func path(_ e: NSError) -> String {
        (e.userInfo[NSFilePathErrorKey] as? String) ?? (e.userInfo[NSURLErrorKey] as? URL)?.path ?? "the file"
    }

    private static func cocoa(_ e: NSError) -> String {
        let file = path(e)
        switch e.code {
        case NSFileNoSuchFileError, NSFileReadNoSuchFileError: return "\(file) does not exist: check the path"
        case NSFileReadNoPermissionError, NSFileWriteNoPermissionError:
            return "\(file) is not accessible to this user: check its permissions and owner"
        case NSFileWriteOutOfSpaceError: return "the disk holding \(file) is full: free some space and try again"
        case NSFileWriteFileExistsError: return "\(file) exists already: choose another name or remove it first"
        case NSFileWriteVolumeReadOnlyError: return "\(file) is on a read-only disk: choose another place"
        default:
            return e.code >= NSFileWriteUnknownError && e.code <= NSFileWriteVolumeReadOnlyError
                ? "cannot write \(file): check the folder exists, is writable and has free space"
                : "cannot read \(file): check it exists and is readable"
        }
    }

    private static func decoding(_ e: DecodingError) -> String {
        func key(_ path: [CodingKey]) -> String { path.map(\.stringValue).joined(separator: ".") }
        switch e {
        case .keyNotFound(let k, let c): return "'\(key(c.codingPath + [k]))' is missing: add it"
        case .typeMismatch(let t, let c): return "'\(key(c.codingPath))' has the wrong type: it must be \(typeName(t))"
        case .valueNotFound(let t, let c): return "'\(key(c.codingPath))' has no value: it must be \(typeName(t))"
        case .dataCorrupted(let c): return "the data at '\(key(c.codingPath))' cannot be read: it is damaged or not in the expected format"
        @unknown default: return "the data cannot be read: it is damaged or not in the expected format"
        }
    }

    static func typeName(_ t: Any.Type) -> String {
        switch t {
        case is Int.Type, is Int64.Type, is UInt16.Type, is Int32.Type, is UInt.Type: "a whole number"
        case is Double.Type: "a number"
        case is Bool.Type: "true or false"
        case is String.Type: "a quoted string"
        default: "\(t)"
        }
    }
}
