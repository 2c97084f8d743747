import Foundation

extension Double {
    /// Seconds as minutes and seconds, `3:07`, or with hours, `1:02:03`.
    public var clock: String {
        let total = Int(rounded())
        let (hours, minutes, seconds) = (total / 3600, total / 60 % 60, total % 60)
        return hours > 0
            ? String(format: "%d:%02d:%02d", hours, minutes, seconds)
            : String(format: "%d:%02d", minutes, seconds)
    }

    /// Seconds as a person writes them: `600`, `12.5`, `4.96`.
    public var formattedSeconds: String {
        let rounded = (self * 100).rounded() / 100
        return rounded == rounded.rounded() ? String(Int(rounded)) : String(rounded)
    }
}
