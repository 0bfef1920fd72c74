import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// The lock that keeps one `aces serve` per data directory: an exclusive `flock` on
/// `<data>/serve.lock`, held while the process lives, with its process id written inside. The
/// kernel drops it when the process ends, however it ends, so a crash leaves no stale lock.
public final class ServeLock: Sendable {
    private let fd: Int32

    init(fd: Int32) { self.fd = fd }

    deinit { close(fd) }
}

extension NodeDirectory {
    /// Takes the serve lock, or refuses with a sentence naming the process that holds it.
    public func lockForServing() throws -> ServeLock {
        let file = path + "/serve.lock"
        let fd = openLockFile(file)
        guard fd >= 0 else {
            throw NodeError.config("cannot open \(file): \(String(cString: strerror(errno))); check the data directory's permissions")
        }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            var buffer = [UInt8](repeating: 0, count: 32)
            let n = pread(fd, &buffer, buffer.count, 0)
            close(fd)
            let pid = n > 0 ? String(decoding: buffer[0..<n], as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines) : "?"
            throw NodeError.config(
                "another 'aces serve' (process \(pid)) is already running on \(path); stop it first, or give this one its own --data directory"
            )
        }
        let pid = Array("\(getpid())\n".utf8)
        _ = ftruncate(fd, 0)
        _ = pwrite(fd, pid, pid.count, 0)
        return ServeLock(fd: fd)
    }
}

/// `open(2)` for the lock file (at file scope: inside `NodeDirectory`, `open` names its static method).
private func openLockFile(_ path: String) -> Int32 { open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600) }

extension NodeDirectory {
    /// The process id of the `aces serve` running on this directory, or nil when none runs (its lock is free).
    public func servingProcess() -> String? {
        let fd = openLockFileReadOnly(path + "/serve.lock")
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        if flock(fd, LOCK_SH | LOCK_NB) == 0 {
            _ = flock(fd, LOCK_UN)
            return nil
        }
        var buffer = [UInt8](repeating: 0, count: 32)
        let n = pread(fd, &buffer, buffer.count, 0)
        return n > 0 ? String(decoding: buffer[0..<n], as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines) : "?"
    }
}

/// `open(2)` of an existing lock file, for reading only.
private func openLockFileReadOnly(_ path: String) -> Int32 { open(path, O_RDONLY | O_CLOEXEC) }
