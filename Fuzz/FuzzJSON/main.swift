import FarmKit
import FuzzSupport

/// Properties of the JSON layer for any bytes:
/// - parsing never crashes;
/// - a value that parses reads back equal (and with an equal hash) from its compact and pretty
///   dumps, and its canonical dump reads back to the same canonical dump;
/// - a parse error has a message and a line and column inside the input.
@_cdecl("LLVMFuzzerTestOneInput")
func fuzzJSON(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = fuzzBytes(data, size)
    do {
        let value = try JSON.parse(bytes: bytes, source: "input")
        checkRoundTrips(value)
    } catch {
        checkLocation(error, in: bytes)
    }
    return 0
}

func checkRoundTrips(_ value: JSON) {
    for (form, text) in [("compact", value.compactString), ("pretty", value.prettyString)] {
        do {
            let again = try JSON.parse(text, source: form)
            require(again == value, "\(form) dump reads back different: \(text)")
            require(again.hashValue == value.hashValue, "equal values with different hashes: \(text)")
        } catch {
            require(false, "\(form) dump does not parse (\(error)): \(text)")
        }
    }
    let canonical = value.canonicalString
    do {
        let again = try JSON.parse(canonical, source: "canonical")
        require(again.canonicalString == canonical, "canonical dump is not stable: \(canonical) → \(again.canonicalString)")
    } catch {
        require(false, "canonical dump does not parse (\(error)): \(canonical)")
    }
}

func checkLocation(_ error: JSONParseError, in bytes: UnsafeRawBufferPointer) {
    let lines = bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
    require(!error.message.isEmpty, "error without a message")
    require(error.source == "input", "error names another source: \(error.source)")
    require(error.line >= 1 && error.line <= lines.count, "error line \(error.line) outside 1…\(lines.count): \(error)")
    // Columns count Unicode scalars (bytes that are not UTF-8 continuation bytes); one past the
    // end of the line is where "end of input" errors point.
    let width = lines[min(max(error.line, 1), lines.count) - 1].count { $0 & 0xC0 != 0x80 }
    require(error.column >= 1 && error.column <= width + 1, "error column \(error.column) outside 1…\(width + 1): \(error)")
}

runFuzzer("fuzz-json", fuzzJSON)
