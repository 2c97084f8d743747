import FarmKit
import Testing

@Suite struct SongClipTests {
    @Test(arguments: [
        ("90", 90.0), ("12.5", 12.5), ("0:30", 30), ("1:45", 105), ("1:02:03", 3723), ("1:02:03.5", 3723.5), ("0", 0), (" 2:00 ", 120),
    ])
    func timesAreSecondsMinutesOrHours(_ text: String, _ seconds: Double) {
        #expect(SongClip.seconds(text) == seconds)
    }

    @Test(arguments: ["", "abc", "1:60", "1:2:60", "1:02:03:04", "-5", "1.5:00", "1e3", ":30", "1:", "0x10"])
    func malformedTimesAreRejected(_ text: String) {
        #expect(SongClip.seconds(text) == nil)
    }

    @Test func clipAndStartEnd() throws {
        #expect(try SongClip(start: nil, end: nil, clip: "0:30-1:45") == SongClip(start: 30, end: 105))
        #expect(try SongClip(start: nil, end: nil, clip: "0:30-") == SongClip(start: 30, end: nil))
        #expect(try SongClip(start: nil, end: nil, clip: "-1:45") == SongClip(start: nil, end: 105))
        #expect(try SongClip(start: "10", end: "1:00", clip: nil) == SongClip(start: 10, end: 60))
        #expect(try SongClip(start: nil, end: nil, clip: nil) == SongClip())
    }

    @Test func mistakesNameTheFlag() {
        func message(_ start: String?, _ end: String?, _ clip: String?) -> String? {
            do {
                _ = try SongClip(start: start, end: end, clip: clip)
                return nil
            } catch let error as UsageError {
                #expect(error.hint != nil)
                #expect(error.exitCode == 2)
                return error.message
            } catch {
                return "\(error)"
            }
        }
        #expect(message(nil, nil, "0:30") == "--clip \"0:30\" is not a range START-END")
        #expect(message(nil, nil, "-") == "--clip \"-\" is not a range START-END")
        #expect(message(nil, nil, "0:30-1:75") == "--clip end \"1:75\" is not a time")
        #expect(message("soon", nil, nil) == "--start \"soon\" is not a time")
        #expect(message("10", nil, "0:30-1:00") == "--clip cannot be combined with --start or --end")
        #expect(message(nil, nil, "1:45-0:30") == "the end of the clip (0:30) must come after its start (1:45)")
        #expect(message("20", "20", nil) == "the end of the clip (0:20) must come after its start (0:20)")
    }
}
