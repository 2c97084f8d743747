#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// libFuzzer's per-input callback: the bytes of one input; returns 0.
public typealias FuzzTest = @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt

#if FUZZING
@_silgen_name("LLVMFuzzerRunDriver")
private func LLVMFuzzerRunDriver(
    _ argc: UnsafeMutablePointer<CInt>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
    _ callback: FuzzTest
) -> CInt
#endif

/// Runs libFuzzer with this process's arguments and exits with its status.
///
/// SwiftPM links executables with its own `main`, which hides libFuzzer's, so each fuzz target
/// starts the driver itself. Without `-DFUZZING` (a plain `swift build`) there is no libFuzzer to
/// call: the program says how to build it and exits 2.
public func runFuzzer(_ name: String, _ test: FuzzTest) -> Never {
    #if FUZZING
    var argc = CommandLine.argc
    var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
    exit(LLVMFuzzerRunDriver(&argc, &argv, test))
    #else
    let hint = """
        \(name) is a libFuzzer target; build it with
          swift build --scratch-path .build-fuzz --product \(name) -Xswiftc -sanitize=fuzzer -Xswiftc -DFUZZING
        or run scripts/fuzz

        """
    printError(hint)
    exit(2)
    #endif
}

/// The input as a byte buffer (libFuzzer passes a null pointer for the empty input).
public func fuzzBytes(_ data: UnsafePointer<UInt8>?, _ size: Int) -> UnsafeRawBufferPointer {
    guard let data, size > 0 else { return UnsafeRawBufferPointer(start: nil, count: 0) }
    return UnsafeRawBufferPointer(start: data, count: size)
}

/// Stops the run with `message` when a property does not hold; libFuzzer then saves the input.
public func require(_ condition: @autoclosure () -> Bool, _ message: @autoclosure () -> String) {
    guard !condition() else { return }
    printError("fuzz property violated: \(message())\n")
    abort()
}

private func printError(_ text: String) {
    var text = text
    text.withUTF8 { _ = write(2, $0.baseAddress, $0.count) }
}
