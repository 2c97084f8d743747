/// Word-wrapping for text drawn with DejaVu Sans Bold, by estimated glyph widths (drawtext cannot wrap).
enum CardText {
    /// `text` as at most `maxLines` lines no wider than `maxWidth` pixels: control characters become
    /// spaces, runs of white space one space, words too long for a line are broken, and text that does
    /// not fit ends with "…".
    static func lines(_ text: String, fontSize: Double, maxWidth: Double, maxLines: Int) -> [String] {
        let cleaned = String(String.UnicodeScalarView(text.unicodeScalars.map { $0.properties.generalCategory == .control ? " " : $0 }))
        var lines: [String] = []
        var line = ""
        for word in cleaned.split(whereSeparator: \.isWhitespace) {
            for piece in pieces(of: String(word), fontSize: fontSize, maxWidth: maxWidth) {
                let candidate = line.isEmpty ? piece : line + " " + piece
                if width(of: candidate, fontSize: fontSize) <= maxWidth {
                    line = candidate
                } else {
                    lines.append(line)
                    line = piece
                }
            }
        }
        if !line.isEmpty { lines.append(line) }
        guard lines.count > maxLines else { return lines }
        var last = lines[maxLines - 1]
        while !last.isEmpty, width(of: last + " …", fontSize: fontSize) > maxWidth { last.removeLast() }
        return Array(lines.prefix(maxLines - 1)) + [last + (last.isEmpty ? "…" : " …")]
    }

    /// The estimated width of `text` in pixels; errs on the wide side.
    static func width(of text: String, fontSize: Double) -> Double {
        text.reduce(0) { $0 + em($1) } * fontSize
    }

    /// `word`, broken into pieces that each fit on a line.
    private static func pieces(of word: String, fontSize: Double, maxWidth: Double) -> [String] {
        var pieces: [String] = []
        var piece = ""
        for character in word {
            if !piece.isEmpty, width(of: piece + String(character), fontSize: fontSize) > maxWidth {
                pieces.append(piece)
                piece = ""
            }
            piece.append(character)
        }
        return pieces + [piece]
    }

    /// A character's advance in ems, rounded up from DejaVu Sans Bold's metrics.
    private static func em(_ character: Character) -> Double {
        guard let scalar = character.unicodeScalars.first else { return 0 }
        if scalar.value >= 0x2E80 { return 1 }  // CJK and beyond: full width
        if !scalar.isASCII { return "—…".contains(character) ? 1 : 0.8 }
        switch character {
        case " ", "i", "j", "l", ".", ",", ":", ";", "'", "!", "|", "`": return 0.36
        case "f", "r", "t", "(", ")", "[", "]", "{", "}", "\"", "-": return 0.52
        case "m", "w", "M", "W", "%", "@", "&": return 1.06
        case "A"..."Z": return 0.83
        default: return 0.7
        }
    }
}
