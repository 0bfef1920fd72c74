import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

extension FederationCA {
    /// Writes the certificate PEM to `certificate` (mode 0644) and the private key PEM to `privateKey` (mode 0600).
    ///
    /// Refuses, before writing anything, when either file already exists. Each file is created exclusively
    /// (`O_CREAT | O_EXCL`) with its final mode, so the key is never readable by others, not even for a moment,
    /// and a file that appears meanwhile is not replaced. (`FileManager.createFile(atPath:contents:attributes:)`
    /// does not do this on Linux: it writes a 0644 temporary file, renames it over the target, then changes the mode.)
    /// When the second file cannot be written, the first is removed again: on any error nothing is left behind.
    /// The folders must exist.
    public static func write(_ issued: IssuedCertificate, certificate: String, privateKey: String) throws {
        guard certificate != privateKey else {
            throw CertificateError("the certificate and its private key need two different files")
        }
        for path in [certificate, privateKey] where fileExists(path) {
            throw CertificateError("\(path) already exists; remove it first to replace it")
        }
        try createExclusively(privateKey, contents: Array(issued.privateKeyPEM.utf8), mode: 0o600)
        do {
            try createExclusively(certificate, contents: Array(issued.certificatePEM.utf8), mode: 0o644)
        } catch {
            _ = unlink(privateKey)
            throw error
        }
    }

    /// Reads a certificate PEM file and its private key PEM file, as written by ``write(_:certificate:privateKey:)``.
    ///
    /// Refuses a private key file that others can read or write (like `ssh`), with the `chmod` that fixes it.
    /// The PEM text is not parsed here; ``issue(chapter:ca:hosts:now:)`` and NIOSSL check it when it is used.
    public static func read(certificate: String, privateKey: String) throws -> IssuedCertificate {
        var info = stat()
        guard stat(privateKey, &info) == 0 else { throw CertificateError("the private key file \(privateKey) is missing") }
        let mode = Int(info.st_mode) & 0o777
        guard mode & 0o077 == 0 else {
            throw CertificateError(
                "the private key file \(privateKey) is readable by others (mode \(String(mode, radix: 8))); run 'chmod 600 \(privateKey)'")
        }
        guard fileExists(certificate) else { throw CertificateError("the certificate file \(certificate) is missing") }
        guard let cert = try? String(contentsOfFile: certificate, encoding: .utf8) else {
            throw CertificateError("cannot read the certificate file \(certificate)")
        }
        guard let key = try? String(contentsOfFile: privateKey, encoding: .utf8) else {
            throw CertificateError("cannot read the private key file \(privateKey)")
        }
        return IssuedCertificate(certificatePEM: cert, privateKeyPEM: key)
    }

    /// Whether anything (even a dangling symbolic link) is at `path`.
    static func fileExists(_ path: String) -> Bool {
        var info = stat()
        return lstat(path, &info) == 0
    }

    /// Creates `path` with `mode`, failing when it exists, writes `contents` and flushes them to disk.
    static func createExclusively(_ path: String, contents: [UInt8], mode: mode_t) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode)
        guard fd >= 0 else {
            let code = errno
            if code == EEXIST { throw CertificateError("\(path) already exists; remove it first to replace it") }
            throw CertificateError("cannot create \(path): \(String(cString: strerror(code)))")
        }
        var failure: Int32 = 0
        // The umask may have removed bits from `mode`; set exactly the mode asked for.
        if fchmod(fd, mode) != 0 { failure = errno }
        var offset = 0
        while failure == 0, offset < contents.count {
            let written = contents[offset...].withUnsafeBytes { Glue.write(fd, $0.baseAddress, $0.count) }
            if written < 0 {
                if errno == EINTR { continue }
                failure = errno
            } else {
                offset += written
            }
        }
        if failure == 0, fsync(fd) != 0 { failure = errno }
        if close(fd) != 0, failure == 0 { failure = errno }
        if failure != 0 {
            _ = unlink(path)
            throw CertificateError("cannot write \(path): \(String(cString: strerror(failure)))")
        }
    }
}

/// The C library's `write`, named apart from `FederationCA.write`.
private enum Glue {
    static func write(_ fd: Int32, _ buffer: UnsafeRawPointer?, _ count: Int) -> Int {
        #if canImport(Glibc)
            Glibc.write(fd, buffer, count)
        #elseif canImport(Musl)
            Musl.write(fd, buffer, count)
        #else
            Darwin.write(fd, buffer, count)
        #endif
    }
}
