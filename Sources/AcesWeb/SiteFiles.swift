import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// The files browsers and crawlers ask every site for: `/robots.txt` and the icon
/// (`/favicon.svg`, linked from every page, and `/favicon.ico` for clients that only ask for that).
enum SiteFiles {
    static func add(to router: Router<BasicRequestContext>, indexing: Bool) {
        let robots = ByteBuffer(string: robotsText(indexing: indexing))
        let svg = ByteBuffer(string: iconSVG)
        let ico = ByteBuffer(bytes: iconICO())
        router.get("/robots.txt") { _, _ -> Response in file(robots, type: "text/plain; charset=utf-8") }
        router.get("/favicon.svg") { _, _ -> Response in file(svg, type: "image/svg+xml") }
        router.get("/favicon.ico") { _, _ -> Response in file(ico, type: "image/x-icon") }
    }

    /// A directory of people is not for search engines: everything is disallowed unless the
    /// chapter chose otherwise (`[web] allow_indexing = true`), and even then only the pages
    /// a visitor sees, not the APIs, sign-in or the node's own status.
    static func robotsText(indexing: Bool) -> String {
        guard indexing else { return "User-agent: *\nDisallow: /\n" }
        let closed = ["/api/", "/admin/", "/signin", "/signout", "/me", "/federation", "/metrics", "/healthz", "/readyz"]
        return "User-agent: *\n" + closed.map { "Disallow: \($0)\n" }.joined() + "Allow: /\n"
    }

    static func file(_ body: ByteBuffer, type: String) -> Response {
        Response(status: .ok, headers: [.contentType: type, .cacheControl: "public, max-age=86400"], body: .init(byteBuffer: body))
    }

    /// The brand's blue disc.
    static let iconSVG = """
        <svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16"><circle cx="8" cy="8" r="7.5" fill="#1f3f8f"/></svg>

        """

    /// The same disc as a 16×16, 32-bit Windows icon (one BMP image with its alpha channel).
    static func iconICO() -> [UInt8] {
        let size = 16
        var out = [UInt8]()
        func u16(_ v: Int) { out += [UInt8(v & 0xFF), UInt8(v >> 8 & 0xFF)] }
        func u32(_ v: Int) { u16(v & 0xFFFF); u16(v >> 16 & 0xFFFF) }
        let pixels = size * size * 4
        let mask = size * 4  // 1 bit a pixel, rows padded to 32 bits
        u16(0); u16(1); u16(1)  // ICONDIR: an icon with one image
        out += [UInt8(size), UInt8(size), 0, 0]; u16(1); u16(32); u32(40 + pixels + mask); u32(22)
        u32(40); u32(size); u32(2 * size); u16(1); u16(32); u32(0); u32(pixels + mask); u32(0); u32(0); u32(0); u32(0)
        for y in (0..<size).reversed() {  // bottom-up rows
            for x in 0..<size {
                // Coverage of the pixel by the disc, from 4×4 samples, as its alpha.
                var inside = 0
                for sy in 0..<4 {
                    for sx in 0..<4 {
                        let dx = Double(x) + (Double(sx) + 0.5) / 4 - 8, dy = Double(y) + (Double(sy) + 0.5) / 4 - 8
                        if dx * dx + dy * dy <= 7.5 * 7.5 { inside += 1 }
                    }
                }
                out += [0x8F, 0x3F, 0x1F, UInt8(inside * 255 / 16)]  // BGRA
            }
        }
        out += [UInt8](repeating: 0, count: mask)
        return out
    }
}
