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

    /// Reads the master side into `sink` until no process has the slave side open any more (EIO),
    /// or until `stop` is set and nothing has come for 100 ms. Blocks: call it on a thread of its own.
    static func drain(_ master: Int32, stop: TerminalSession.Flag, into sink: (ArraySlice<UInt8>) -> Void) {
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            var poller = pollfd(fd: master, events: Int16(POLLIN), revents: 0)
            let ready = poll(&poller, 1, 100)
            if ready < 0, errno == EINTR { continue }
            if ready == 0 {
                if stop.isSet { return }
                continue
            }
            let count = read(master, &buffer, buffer.count)
            if count < 0, errno == EINTR { continue }
            guard count > 0 else { return }
            sink(buffer[0..<count])
        }
    }

    /// The program that gives its standard input the terminal as the controlling terminal of a new
    /// session before it runs farm (`setsid --ctty`, util-linux), as a terminal emulator does for
    /// its shell: only then does the line discipline turn a typed ^C into SIGINT for farm.
    static let sessionLeader: URL? = ["/usr/bin/setsid", "/bin/setsid"].map(URL.init(fileURLWithPath:))
        .first { FileManager.default.isExecutableFile(atPath: $0.path) }

    private static func failure(_ call: String) -> any Error {
        CocoaError(.fileReadUnknown, userInfo: [NSLocalizedDescriptionKey: "\(call): \(String(cString: strerror(errno)))"])
    }
}

/// farm running under a pseudo-terminal, as the `interaction` of `FarmCLI.runInTerminal` sees it:
/// what farm has written so far, and the terminal's keyboard (the master side). Valid only while
/// the interaction runs: farm is not reaped before it returns, so its process id stays its own.
public final class TerminalSession: Sendable {
    /// A flag set once, from any thread.
    final class Flag: Sendable {
        private let value = Mutex(false)
        func set() { value.withLock { $0 = true } }
        var isSet: Bool { value.withLock { $0 } }
    }

    private let master: Int32
    private let signal: @Sendable (Int32) throws -> Void
    private let output = Mutex<[UInt8]>([])
    /// Set when farm's side of the terminal has closed (it exited) or reading stopped.
    let ended = Flag()

    init(master: Int32, signal: @escaping @Sendable (Int32) throws -> Void) {
        self.master = master
        self.signal = signal
    }

    func append(_ bytes: ArraySlice<UInt8>) { output.withLock { $0.append(contentsOf: bytes) } }

    /// Everything farm wrote to its terminal so far, and the terminal's echo of what was typed.
    public var transcript: String { String(decoding: output.withLock { $0 }, as: UTF8.self) }

    /// Waits until the transcript satisfies `condition` (checked every 20 ms) and returns it.
    /// Throws, with the transcript, if farm's terminal closes first or `timeout` passes.
    @discardableResult
    public func waitFor(_ description: String, timeout: Duration = .seconds(120),
                        until condition: (String) -> Bool) async throws -> String {
        let deadline = ContinuousClock.now + timeout
        while true {
            let ended = ended.isSet
            let text = transcript
            if condition(text) { return text }
            if ended { throw TerminalError("farm's terminal closed before it showed \(description):\n\(text)") }
            if ContinuousClock.now >= deadline { throw TerminalError("no \(description) after \(timeout):\n\(text)") }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    /// Waits until the transcript contains `text`; see `waitFor(_:timeout:until:)`.
    @discardableResult
    public func waitFor(_ text: String, timeout: Duration = .seconds(120)) async throws -> String {
        try await waitFor("\"\(text)\"", timeout: timeout) { $0.contains(text) }
    }

    /// Types `text` on the terminal's keyboard; `\r` is the Enter key (the line discipline makes it
    /// `\n`, ends the line for a reading program and echoes it).
    public func type(_ text: String) throws {
        var bytes = Array(text.utf8)[...]
        while !bytes.isEmpty {
            let written = bytes.withUnsafeBytes { write(master, $0.baseAddress, $0.count) }
            if written < 0, errno == EINTR { continue }
            guard written > 0 else { throw TerminalError("writing to the terminal: \(String(cString: strerror(errno)))") }
            bytes = bytes.dropFirst(written)
        }
    }

    /// Presses Ctrl-C: types the terminal's interrupt character (VINTR, ^C), from which the line
    /// discipline sends SIGINT to farm's process group, as for a user at a terminal.
    public func typeInterrupt() throws {
        var attributes = termios()
        guard tcgetattr(master, &attributes) == 0 else {
            throw TerminalError("reading the terminal's attributes: \(String(cString: strerror(errno)))")
        }
        let character = withUnsafeBytes(of: attributes.c_cc) { $0[Int(VINTR)] }
        try type(String(decoding: [character], as: UTF8.self))
    }

    /// Sends `signal` (e.g. `SIGINT`) to farm itself, the way `kill` does, not through the terminal.
    public func send(signal: Int32) throws {
        try self.signal(signal)
    }

    struct TerminalError: Error, CustomStringConvertible {
        let description: String
        init(_ description: String) { self.description = description }
    }
}

extension FarmCLI {
    /// What farm wrote to its terminal (standard output and error together, escapes and all, with
    /// the terminal's `\r\n` line ends, and the echo of what was typed), and how it ended.
    public struct TerminalResult: Sendable {
        public let status: Int32
        public let transcript: String
    }

    /// Runs farm (no shell in between) with a new pseudo-terminal as its standard input, output and
    /// error and as the controlling terminal of a session of its own, so it draws its live display
    /// and a typed ^C interrupts it; `TERM` is `xterm`.
    ///
    /// `interaction` runs meanwhile: it can watch the output as it arrives, type, press Ctrl-C or
    /// send farm a signal (see `TerminalSession`). The result comes once farm has exited and the
    /// interaction has returned. If the interaction throws, farm and its process group are killed
    /// and the error is rethrown; farm and its process group are also killed if farm outlives `timeout`.
    public func runInTerminal(
        _ arguments: [String], timeout: Duration = .seconds(300),
        interaction: @escaping @Sendable (TerminalSession) async throws -> Void = { _ in }
    ) async throws -> TerminalResult {
        guard let sessionLeader = PseudoTerminal.sessionLeader else {
            throw TerminalSession.TerminalError("setsid (util-linux) is needed to give farm its terminal as a controlling terminal")
        }
        let (master, slave) = try PseudoTerminal.open()
        defer { close(master) }
        // farm gets three copies of the slave side; this process keeps none, so the reader sees
        // the end (EIO) when farm exits.
        let copies = (dup(slave), dup(slave), dup(slave))
        close(slave)
        var variables: [Environment.Key: String] = [:]
        for (name, value) in environment { variables[Environment.Key(stringLiteral: name)] = value }
        variables["TERM"] = "xterm"
        let stop = TerminalSession.Flag()
        // setsid execs farm in its own process (it forks only when started as a process group
        // leader, which a child of this process is not; `--wait` covers that case anyway), so the
        // process id is farm's and farm leads a process group of the same id.
        let outcome = try await Subprocess.run(
            .path(FilePath(sessionLeader.path)), arguments: Arguments(["--ctty", "--wait", binary.path] + arguments),
            environment: .custom(variables), workingDirectory: FilePath(workingDirectory.path),
            input: .fileDescriptor(FileDescriptor(rawValue: copies.0), closeAfterSpawningProcess: true),
            output: .fileDescriptor(FileDescriptor(rawValue: copies.1), closeAfterSpawningProcess: true),
            error: FileDescriptorOutput.fileDescriptor(FileDescriptor(rawValue: copies.2), closeAfterSpawningProcess: true)
        ) { execution in
            let session = TerminalSession(master: master) { signal in try execution.send(signal: Signal(rawValue: signal)) }
            let killAll: @Sendable () -> Void = {
                try? execution.send(signal: .kill, toProcessGroup: true)
                try? execution.send(signal: .kill)
            }
            return try await withThrowingTaskGroup(of: Void.self) { group in
                // Reads until farm's terminal closes (or `stop`, once the interaction failed).
                group.addTask {
                    await withCheckedContinuation { continuation in
                        Thread.detachNewThread {
                            PseudoTerminal.drain(master, stop: stop, into: session.append)
                            session.ended.set()
                            continuation.resume()
                        }
                    }
                }
                let timer = Task {
                    try await Task.sleep(for: timeout)
                    killAll()
                }
                defer { timer.cancel() }
                do {
                    try await interaction(session)
                } catch {
                    killAll()
                    stop.set()
                    try await group.waitForAll()
                    throw error
                }
                try await group.waitForAll()
                return session.transcript
            }
        }
        let transcript = outcome.closureResult
        switch outcome.terminationStatus {
        case .exited(let code): return TerminalResult(status: code, transcript: transcript)
        case .signaled(let signal): return TerminalResult(status: 128 + signal, transcript: transcript)
        }
    }
}
