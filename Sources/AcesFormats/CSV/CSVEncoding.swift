/// The character encoding a spreadsheet file was written in, as `CSVReader.readDetectingEncoding` found it.
///
/// Excel on Windows saves "CSV (séparateur: point-virgule)" and "CSV (Trennzeichen-getrennt)" in
/// Windows-1252, older tools in Latin-1 (ISO-8859-1); both are converted to UTF-8 before reading.
public enum CSVEncoding: String, Sendable, Equatable {
    case utf8 = "UTF-8"
    case windows1252 = "Windows-1252"
    case latin1 = "Latin-1 (ISO-8859-1)"

    /// `bytes` as UTF-8 and the encoding they were in: UTF-8 as it is (with or without BOM), else
    /// Windows-1252 when a byte in 0x80–0x9F occurs (printable there: € ‚ „ … ’ “ ” – — œ Œ …; control
    /// characters in Latin-1, so never in a Latin-1 text file), else Latin-1 (which Windows-1252
    /// agrees with for every other byte).
    ///
    /// A file that holds well-formed multi-byte UTF-8 beside a malformed sequence is taken as damaged
    /// UTF-8, not as another encoding, so `CSVReader` names the line of the bad bytes.
    public static func toUTF8(_ bytes: [UInt8]) -> (bytes: [UInt8], encoding: CSVEncoding) {
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) || bytes.starts(with: [0xFF, 0xFE]) || bytes.starts(with: [0xFE, 0xFF]) {
            return (bytes, .utf8)
        }
        guard bytes.contains(where: { $0 >= 0x80 }) else { return (bytes, .utf8) }
        var iterator = bytes.makeIterator()
        var decoder = Unicode.UTF8()
        var multiByte = false
        var malformed = false
        decoding: while true {
            switch decoder.decode(&iterator) {
            case .scalarValue(let s): if s.value >= 0x80 { multiByte = true }
            case .emptyInput: break decoding
            case .error: malformed = true
            }
        }
        guard malformed && !multiByte else { return (bytes, .utf8) }
        let windows = bytes.contains(where: { $0 >= 0x80 && $0 <= 0x9F })
        var out = [UInt8]()
        out.reserveCapacity(bytes.count + bytes.count / 8)
        for byte in bytes {
            if byte < 0x80 {
                out.append(byte)
                continue
            }
            let scalar = windows && byte <= 0x9F ? highHalf1252[Int(byte - 0x80)] : UInt32(byte)
            out.append(contentsOf: String(Character(Unicode.Scalar(scalar)!)).utf8)
        }
        return (out, windows ? .windows1252 : .latin1)
    }

    /// Windows-1252's 0x80–0x9F; the five bytes it leaves undefined keep their Latin-1 (C1) meaning,
    /// as browsers decode them.
    private static let highHalf1252: [UInt32] = [
        0x20AC, 0x81, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, 0x8D, 0x017D, 0x8F,
        0x90, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0x9D, 0x017E, 0x0178,
    ]
}
