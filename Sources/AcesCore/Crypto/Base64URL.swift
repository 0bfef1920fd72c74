/// Unpadded base64url (RFC 4648 §5), used for salts, keys and signatures in the protocol.
/// Hand-written: it runs for every entry sent or received.
public enum Base64URL {
    private static let alphabet: [UInt8] = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)
    private static let reverse: [UInt8] = {
        var r = [UInt8](repeating: 0xff, count: 256)
        for (i, c) in alphabet.enumerated() { r[Int(c)] = UInt8(i) }
        return r
    }()

    /// Encodes bytes as unpadded base64url.
    public static func encode<C: Collection<UInt8>>(_ bytes: C) -> String {
        var out = [UInt8]()
        encode(bytes, into: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// Appends the unpadded base64url of `bytes` to `out`.
    public static func encode<C: Collection<UInt8>>(_ bytes: C, into out: inout [UInt8]) {
        let a = Array(bytes)
        out.reserveCapacity(out.count + (a.count * 4 + 2) / 3)
        var i = 0
        while i + 3 <= a.count {
            let n = UInt32(a[i]) << 16 | UInt32(a[i + 1]) << 8 | UInt32(a[i + 2])
            out.append(alphabet[Int(n >> 18 & 63)])
            out.append(alphabet[Int(n >> 12 & 63)])
            out.append(alphabet[Int(n >> 6 & 63)])
            out.append(alphabet[Int(n & 63)])
            i += 3
        }
        let rest = a.count - i
        if rest == 1 {
            let n = UInt32(a[i]) << 16
            out.append(alphabet[Int(n >> 18 & 63)])
            out.append(alphabet[Int(n >> 12 & 63)])
        } else if rest == 2 {
            let n = UInt32(a[i]) << 16 | UInt32(a[i + 1]) << 8
            out.append(alphabet[Int(n >> 18 & 63)])
            out.append(alphabet[Int(n >> 12 & 63)])
            out.append(alphabet[Int(n >> 6 & 63)])
        }
    }

    /// Decodes unpadded base64url; nil on any character outside the alphabet, on padding, or on
    /// a non-canonical last character (stray low bits).
    public static func decode(_ text: String) -> [UInt8]? {
        var t = text
        return t.withUTF8 { decode(bytes: $0) }
    }

    /// Decodes unpadded base64url from UTF-8 bytes.
    public static func decode<C: Collection<UInt8>>(bytes text: C) -> [UInt8]? {
        let s = Array(text)
        if s.count % 4 == 1 { return nil }
        var out = [UInt8]()
        out.reserveCapacity(s.count * 3 / 4)
        var i = 0
        var v = [UInt32](repeating: 0, count: 4)
        while i < s.count {
            let n = min(4, s.count - i)
            for k in 0..<n {
                let d = reverse[Int(s[i + k])]
                if d == 0xff { return nil }
                v[k] = UInt32(d)
            }
            for k in n..<4 { v[k] = 0 }
            let word = v[0] << 18 | v[1] << 12 | v[2] << 6 | v[3]
            out.append(UInt8(word >> 16 & 0xff))
            if n == 2 {
                if word & 0xffff != 0 { return nil }
            } else {
                out.append(UInt8(word >> 8 & 0xff))
                if n == 3 {
                    if word & 0xff != 0 { return nil }
                } else {
                    out.append(UInt8(word & 0xff))
                }
            }
            i += n
        }
        return out
    }
}
