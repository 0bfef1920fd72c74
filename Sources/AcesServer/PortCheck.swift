import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Whether a listener could bind a port: checked before a node binds its listeners, so a taken
/// port gets a sentence instead of a stack of NIO errors.
public enum PortCheck {
    /// Whether `host:port` can be listened on right now (IPv4 hosts; other hosts are assumed fine).
    public static func canListen(host: String, port: Int) -> Bool {
        guard port != 0, inet_addr(host) != INADDR_NONE || host == "255.255.255.255" else { return true }
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return true }
        defer { close(fd) }
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr(host)
        addr.sin_port = UInt16(port).bigEndian
        return withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        } == 0
    }
}
