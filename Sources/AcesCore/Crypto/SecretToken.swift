import Crypto
import Foundation

/// Bearer secrets (sign-in links, sessions, admin tokens). A node keeps only their digest and
/// checks a presented secret with the crypto library's constant-time verification.
public enum SecretToken {
    private static let key = SymmetricKey(data: Array("aces-secret-token-v1".utf8))

    /// A fresh secret: 32 random bytes in base64url, with a readable prefix.
    public static func make(prefix: String, random: [UInt8]) -> String {
        precondition(random.count >= 32, "a secret needs 32 random bytes")
        return prefix + Base64URL.encode(random)
    }

    /// The digest a node stores for a secret.
    public static func digest(_ token: String) -> [UInt8] {
        Array(HMAC<SHA256>.authenticationCode(for: Array(token.utf8), using: key))
    }

    /// Whether `token` is the secret whose digest is `digest`, compared in constant time.
    public static func matches(_ token: String, digest: [UInt8]) -> Bool {
        HMAC<SHA256>.isValidAuthenticationCode(digest, authenticating: Array(token.utf8), using: key)
    }
}

extension SecretToken {
    /// `n` bytes from the system's cryptographically secure generator.
    public static func random(_ n: Int) -> [UInt8] {
        var g = SystemRandomNumberGenerator()
        return (0..<n).map { _ in UInt8.random(in: 0...255, using: &g) }
    }
}
