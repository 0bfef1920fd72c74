import AcesCore
import Foundation
import TOMLKit

/// A node's configuration, `aces.toml` in its data directory.
public struct NodeConfig: Codable, Sendable, Equatable {
    /// The chapter this node belongs to; its own entries' origin.
    public var chapter: String
    /// Folder of the roster (one TOML file per chapter), relative to the data directory or absolute.
    public var roster: String?
    /// The node's own signing keys, newest last.
    public var keys: [KeyConfig]

    /// One of the node's signing keys.
    public struct KeyConfig: Codable, Sendable, Equatable {
        public var id: String
        /// Unpadded base64url of the public key.
        public var publicKey: String
        /// The private key's file, relative to the data directory.
        public var file: String
        /// Validity, in Unix milliseconds.
        public var validFrom: Int64
        public var validUntil: Int64?

        enum CodingKeys: String, CodingKey {
            case id
            case publicKey = "public_key"
            case file
            case validFrom = "valid_from"
            case validUntil = "valid_until"
        }
    }

    public init(chapter: String, roster: String? = nil, keys: [KeyConfig]) {
        self.chapter = chapter
        self.roster = roster
        self.keys = keys
    }

    /// Reads and checks a configuration; the error says which setting is wrong.
    public static func parse(_ text: String) throws(NodeError) -> NodeConfig {
        let config: NodeConfig
        do {
            config = try TOMLDecoder().decode(NodeConfig.self, from: text)
        } catch {
            throw NodeError.config("aces.toml could not be read: \(error)")
        }
        guard ChapterID(config.chapter) != nil else { throw NodeError.config("aces.toml: chapter: \(ChapterID.rule)") }
        guard !config.keys.isEmpty else { throw NodeError.config("aces.toml: no signing key is configured") }
        return config
    }

    /// The configuration as TOML.
    public func toml() throws -> String {
        try TOMLEncoder().encode(self).convert(to: .toml) + "\n"
    }
}
