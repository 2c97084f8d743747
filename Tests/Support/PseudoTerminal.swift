import Foundation
import Subprocess
import Synchronization

#if canImport(Glibc)
import Glibc
#endif
#if canImport(System)
import System
#else
import SystemPackage
#endif

/// Pseudo-terminals, for running a program that must believe it writes to a terminal.
public enum PseudoTerminal {
    /// Opens a pair (both close-on-exec) whose terminal is `columns` × `rows`: the master side the
    /// test reads, and the slave side the program gets as its terminal. Linux: /dev/ptmx and its
    /// ioctls (posix_openpt and friends are not in Swift's Glibc module).
    public static func open(columns: UInt16 = 120, rows: UInt16 = 40) throws -> (master: Int32, slave: Int32) {
        let master = Glibc.open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC)
        guard master >= 0 else { throw failure("open /dev/ptmx") }
        var unlock: Int32 = 0
        var number: UInt32 = 0
        guard withUnsafeMutablePointer(to: &unlock, { ioctl(master, setLock, $0) }) == 0,
              withUnsafeMutablePointer(to: &number, { ioctl(master, getNumber, $0) }) == 0
        else {
            let error = failure("unlocking the pseudo-terminal")
            close(master)
            throw error
        }
        let slave = Glibc.open("/dev/pts/\(number)", O_RDWR | O_NOCTTY | O_CLOEXEC)
        guard slave >= 0 else {
            let error = failure("open /dev/pts/\(number)")
            close(master)
            throw error
        }
        var size = winsize(ws_row: rows, ws_col: columns, ws_xpixel: 0, ws_ypixel: 0)
        _ = withUnsafeMutablePointer(to: &size) { ioctl(master, UInt(TIOCSWINSZ), $0) }
        return (master, slave)
    }

    /// TIOCSPTLCK and TIOCGPTN (`_IOW('T', 0x31, int)`, `_IOR('T', 0x30, unsigned int)`), which
    /// Swift does not import.
    private static let setLock: UInt = 0x4004_5431
    private static let getNumber: UInt = 0x8004_5430

    /// Set to stop `drain` early.
    final class StopFlag: Sendable {
        private let value = Mutex(false)
        func set() { value.withLock { $0 = true } }
        var isSet: Bool { value.withLock { $0 } }
    }

    /// Reads the master side until no process has the slave side open any more (EIO), or until
    /// `stop` is set and nothing has come for 100 ms. Blocks: call it on a thread of its own.
    static func drain(_ master: Int32, stop: StopFlag) -> [UInt8] {
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            var poller = pollfd(fd: master, events: Int16(POLLIN), revents: 0)
            let ready = poll(&poller, 1, 100)
            if ready < 0, errno == EINTR { continue }
            if ready == 0 {
                if stop.isSet { return bytes }
                continue
            }
            let count = read(master, &buffer, buffer.count)
            if count < 0, errno == EINTR { continue }
            guard count > 0 else { return bytes }
            bytes.append(contentsOf: buffer[0..<count])
        }
    }

    private static func failure(_ call: String) -> any Error {
        CocoaError(.fileReadUnknown, userInfo: [NSLocalizedDescriptionKey: "\(call): \(String(cString: strerror(errno)))"])
    }
}

extension FarmCLI {
    /// What farm wrote to its terminal (standard output and error together, escapes and all, with
    /// the terminal's `\r\n` line ends), and how it ended.
    public struct TerminalResult: Sendable {
        public let status: Int32
        public let transcript: String
    }

    /// Runs farm (no shell in between) with a new pseudo-terminal as its standard input, output and
    /// error, so it draws its live display; `TERM` is `xterm`. The child is killed if it outlives `timeout`.
    public func runInTerminal(_ arguments: [String], timeout: Duration = .seconds(300)) async throws -> TerminalResult {
        let (master, slave) = try PseudoTerminal.open()
        defer { close(master) }
        // farm gets three copies of the slave side; this process keeps none, so the reader sees
        // the end (EIO) when farm exits.
        let copies = (dup(slave), dup(slave), dup(slave))
        close(slave)
        let stop = PseudoTerminal.StopFlag()
        let reading = Task {
            await withCheckedContinuation { continuation in
                Thread.detachNewThread { continuation.resume(returning: PseudoTerminal.drain(master, stop: stop)) }
            }
        }
        var variables: [Environment.Key: String] = [:]
        for (name, value) in environment { variables[Environment.Key(stringLiteral: name)] = value }
        variables["TERM"] = "xterm"
        let status: TerminationStatus
        do {
            status = try await Subprocess.run(
                .path(FilePath(binary.path)), arguments: Arguments(arguments), environment: .custom(variables),
                workingDirectory: FilePath(workingDirectory.path),
                input: .fileDescriptor(FileDescriptor(rawValue: copies.0), closeAfterSpawningProcess: true),
                output: .fileDescriptor(FileDescriptor(rawValue: copies.1), closeAfterSpawningProcess: true),
                error: FileDescriptorOutput.fileDescriptor(FileDescriptor(rawValue: copies.2), closeAfterSpawningProcess: true)
            ) { execution in
                // Until farm's terminal closes, or the timeout kills it.
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask { _ = await reading.value }
                    group.addTask {
                        try await Task.sleep(for: timeout)
                        try? execution.send(signal: .kill)
                    }
                    _ = try await group.next()
                    group.cancelAll()
                }
            }.terminationStatus
        } catch {
            stop.set()
            _ = await reading.value
            throw error
        }
        let transcript = String(decoding: await reading.value, as: UTF8.self)
        switch status {
        case .exited(let code): return TerminalResult(status: code, transcript: transcript)
        case .signaled(let signal): return TerminalResult(status: 128 + signal, transcript: transcript)
        }
    }
}
