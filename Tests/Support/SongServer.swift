import FarmKit
import Foundation

/// A loopback HTTP server with songs to link to, made with ffmpeg for each test:
///
/// - `tone.wav` (4 s), `clip.mp4` (3 s video with sound), `song.txt` (the WAV under a text name),
///   `picture.png` and `picture.mp3` (an image), `notes.txt` (text);
/// - `page.html` (an `<audio>` of tone.wav, title "Page Song"), `video.html` (a `<video>` with a
///   `<source>` of clip.mp4), `two.html` (both), `empty.html` (no media), `broken.html` (a
///   `<video>` whose file is missing);
/// - `/named`: tone.wav with `Content-Disposition: attachment; filename="Nice Song.wav"`.
public struct SongServer: Sendable {
    public let folder: TemporaryDirectory
    public let server: TestHTTPServer

    public static func start() async throws -> SongServer {
        let folder = try TemporaryDirectory("farm-songs")
        let files = folder.file("files")
        try FileManager.default.createDirectory(at: files, withIntermediateDirectories: true)
        func file(_ name: String) -> URL { files.appendingPathComponent(name) }
        let tone = try await TestMedia.sineWAV(seconds: 4, to: file("tone.wav"))
        try await TestMedia.colorVideo(seconds: 3, to: file("clip.mp4"), withAudio: true)
        try FileManager.default.copyItem(at: tone, to: file("song.txt"))
        try await TestMedia.ffmpeg.run(["-f", "lavfi", "-i", "color=c=red:s=64x64", "-frames:v", "1", file("picture.png").path])
        try FileManager.default.copyItem(at: file("picture.png"), to: file("picture.mp3"))
        try Data("la la la\n".utf8).write(to: file("notes.txt"))
        let pages = [
            "page.html": #"<title>Page Song</title></head><body><audio controls src="tone.wav"></audio>"#,
            "video.html": #"<title>Video Page</title></head><body><video controls><source src="clip.mp4" type="video/mp4"></video>"#,
            "two.html": #"<title>Two</title></head><body><video src="clip.mp4"></video><audio src="tone.wav"></audio>"#,
            "empty.html": #"<title>Nothing here</title></head><body><p>No media on this page.</p>"#,
            "broken.html": #"<title>Broken</title></head><body><video src="missing.mp4"></video>"#,
        ]
        for (name, inner) in pages {
            try Data("<!DOCTYPE html>\n<html><head>\(inner)</body></html>\n".utf8).write(to: file(name))
        }
        let routes: [String: Any] = [
            "/named": [
                "headers": ["Content-Type": "application/octet-stream", "Content-Disposition": #"attachment; filename="Nice Song.wav""#],
                "body_file": "files/tone.wav",
            ],
        ]
        try JSONSerialization.data(withJSONObject: routes).write(to: folder.file("routes.json"))
        return SongServer(folder: folder, server: try await TestHTTPServer.start(files: files, routes: folder.file("routes.json")))
    }

    /// The link to a file in the served folder.
    public func link(_ name: String) -> String { server.url("/files/\(name)").absoluteString }

    /// A served file, to change or remove.
    public func file(_ name: String) -> URL { folder.file("files/\(name)") }

    /// Stops the server and removes the files.
    public func stop() {
        server.stop()
        folder.remove()
    }
}
