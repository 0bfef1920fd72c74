import Foundation

/// Unpadded base64url (RFC 4648 §5), used for salts, keys and signatures in the protocol.
public enum Base64URL {
    /// Encodes bytes as unpadded base64url.
    public static func encode<C: Collection<UInt8>>(_ bytes: C) -> String {
        var s = Data(bytes).base64EncodedString()
        s = s.replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
        while s.hasSuffix("=") { s.removeLast() }
        return s
    }

    /// Decodes unpadded base64url; nil on any character outside the alphabet or on padding.
    public static func decode(_ text: String) -> [UInt8]? {
        guard !text.contains("="), !text.contains("+"), !text.contains("/") else { return nil }
        var s = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        let rem = s.utf8.count % 4
        if rem == 1 { return nil }
        if rem > 0 { s += String(repeating: "=", count: 4 - rem) }
        guard let data = Data(base64Encoded: s) else { return nil }
        let bytes = [UInt8](data)
        // Reject non-canonical encodings (stray bits in the last character).
        guard encode(bytes) == text else { return nil }
        return bytes
    }
}
