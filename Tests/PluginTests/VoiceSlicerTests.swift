import FarmKit
import Foundation
import Testing

@testable import FFmpegProvider

@Suite struct VoiceSlicerTests {
    static let settings = VoiceSlicer.Settings(silenceDB: -40, clipMin: 5, clipMax: 15)

    @Test func readsPausesAndLevelsFromFFmpegsLog() {
        let log = """
            [silencedetect @ 0x1] silence_start: 3.001
            [silencedetect @ 0x1] silence_end: 4 | silence_duration: 0.999
            [silencedetect @ 0x1] silence_start: 7
            [silencedetect @ 0x1] silence_end: 8 | silence_duration: 1
            [silencedetect @ 0x1] silence_start: 11.5
            [Parsed_volumedetect_1 @ 0x2] mean_volume: -17.3 dB
            [Parsed_volumedetect_1 @ 0x2] max_volume: -4.0 dB
            """
        let analysis = VoiceSlicer.parse(log, duration: 12)
        #expect(analysis.voiced == [0...3.001, 4...7, 8...11.5])
        #expect(analysis.pauses == 2)
        #expect(analysis.peakDB == -4 && analysis.meanDB == -17.3)
        #expect(abs(analysis.voicedSeconds - 9.501) < 0.0001)
    }

    @Test func groupsPhrasesIntoClipsOfFiveToFifteenSeconds() {
        // 3 s phrases with 1 s pauses for 40 s: clips join phrases until 5 s or more.
        let phrases = stride(from: 0.0, to: 40, by: 4).map { $0...($0 + 3) }
        let analysis = VoiceSlicer.Analysis(duration: 40, peakDB: -3, meanDB: -12, voiced: phrases, pauses: 9)
        let clips = VoiceSlicer.clips(analysis, Self.settings)
        #expect(clips.count == 5)
        #expect(clips.allSatisfy { (5...15).contains($0.upperBound - $0.lowerBound) })
        // One 40 s stretch is cut in three equal parts; a lone 0.5 s blip far away is dropped.
        let long = VoiceSlicer.Analysis(duration: 60, peakDB: -3, meanDB: -12, voiced: [0...40, 55...55.5], pauses: 1)
        let parts = VoiceSlicer.clips(long, Self.settings)
        #expect(parts.count == 3)
        #expect(parts.allSatisfy { abs(($0.upperBound - $0.lowerBound) - 40.15 / 3) < 0.01 })
    }

    @Test func exifOrientationIsReadFromBothByteOrders() {
        func jpeg(_ orientation: UInt8, littleEndian: Bool) -> [UInt8] {
            let tiff: [UInt8] = littleEndian
                ? [0x49, 0x49, 0x2A, 0x00, 0x08, 0x00, 0x00, 0x00, 0x01, 0x00, 0x12, 0x01, 0x03, 0x00, 0x01, 0x00, 0x00, 0x00, orientation, 0x00, 0x00, 0x00]
                : [0x4D, 0x4D, 0x00, 0x2A, 0x00, 0x00, 0x00, 0x08, 0x00, 0x01, 0x01, 0x12, 0x00, 0x03, 0x00, 0x00, 0x00, 0x01, 0x00, orientation, 0x00, 0x00]
            let body = Array("Exif\0\0".utf8) + tiff + [0, 0, 0, 0]
            return [0xFF, 0xD8, 0xFF, 0xE1, 0x00, UInt8(body.count + 2)] + body + [0xFF, 0xD9]
        }
        #expect(ExifOrientation.orientation(in: jpeg(6, littleEndian: true)) == 6)
        #expect(ExifOrientation.orientation(in: jpeg(8, littleEndian: false)) == 8)
        #expect(ExifOrientation.orientation(in: [0x89, 0x50, 0x4E, 0x47]) == 1)
        #expect(ExifOrientation.filters(6) == ["transpose=1"])
    }
}
