import Foundation

/// A stylised singer on a stage-lit backdrop, head and shoulders centred (so a centred square crop
/// keeps the face), drawn in software as anti-aliased shapes. Colours, hair, light spots and the
/// microphone side follow from the seed and the prompt.
struct Portrait {
    struct Color {
        var red, green, blue: Double

        init(_ red: Double, _ green: Double, _ blue: Double) {
            (self.red, self.green, self.blue) = (red, green, blue)
        }

        /// From hue (wrapping, 0…1), saturation and value.
        init(hue: Double, saturation: Double, value: Double) {
            let h = (hue - hue.rounded(.down)) * 6
            let f = h - h.rounded(.down)
            let p = value * (1 - saturation), q = value * (1 - saturation * f), t = value * (1 - saturation * (1 - f))
            let (r, g, b): (Double, Double, Double) = switch Int(h) % 6 {
            case 0: (value, t, p)
            case 1: (q, value, p)
            case 2: (p, value, t)
            case 3: (p, q, value)
            case 4: (t, p, value)
            default: (value, p, q)
            }
            self.init(r * 255, g * 255, b * 255)
        }

        func scaled(_ factor: Double) -> Color { Color(red * factor, green * factor, blue * factor) }

        /// Euclidean distance in RGB.
        func distance(to other: Color) -> Double {
            let r = red - other.red, g = green - other.green, b = blue - other.blue
            return (r * r + g * g + b * b).squareRoot()
        }
    }

    private static let skins = [
        Color(241, 194, 167), Color(224, 172, 138), Color(198, 134, 100),
        Color(161, 102, 74), Color(120, 78, 56), Color(234, 192, 150),
    ]
    private static let hairs = [
        Color(58, 38, 28), Color(30, 24, 22), Color(120, 72, 40),
        Color(205, 165, 95), Color(150, 60, 40), Color(92, 92, 104),
    ]

    private enum HairStyle: CaseIterable { case bob, long, short }

    private let hue: Double
    private let skin: Color
    private let hair: Color
    private let shirt: Color
    private let style: HairStyle
    private let fringePhase: Double
    private let fringeWaves: Double
    /// +1: the microphone is on the picture's right, -1: on its left.
    private let micSide: Double
    /// Soft light spots: centre (0…1 of width and height), radius (of the shorter side), opacity, colour.
    private let lights: [(x: Double, y: Double, radius: Double, opacity: Double, color: Color)]

    init(seed: Int, prompt: String) {
        var random = StableRandom(seed: seed, text: prompt)
        hue = random.unit()
        let skin = random.pick(Self.skins), hair = random.pick(Self.hairs)
        self.skin = skin
        // Hair close to the skin's colour would hide the fringe: darken it.
        self.hair = hair.distance(to: skin) < 45 ? hair.scaled(0.55) : hair
        let shirtHue = hue + random.unit(0.4...0.6), saturation = random.unit(0.45...0.7), value = random.unit(0.45...0.62)
        let shirt = Color(hue: shirtHue, saturation: saturation, value: value)
        // A shirt the colour of the skin: take the opposite hue.
        self.shirt = shirt.distance(to: skin) < 60 ? Color(hue: shirtHue + 0.5, saturation: saturation, value: value) : shirt
        style = random.pick(HairStyle.allCases)
        fringePhase = random.unit(0...(2 * .pi))
        fringeWaves = random.unit(2...3.5)
        micSide = random.pick([-1.0, 1.0])
        var lights: [(x: Double, y: Double, radius: Double, opacity: Double, color: Color)] = []
        for _ in 0..<9 {
            lights.append((
                random.unit(), random.unit(0...0.75), random.unit(0.02...0.07), random.unit(0.08...0.22),
                Color(hue: hue + random.unit(-0.12...0.12), saturation: 0.35, value: 1)))
        }
        self.lights = lights
    }

    /// The picture as packed 8-bit RGB, row by row (ffmpeg's `rgb24`).
    func render(width: Int, height: Int) -> [UInt8] {
        var canvas = Canvas(width: width, height: height)
        let unit = Double(min(width, height))
        let centerX = Double(width) / 2, centerY = Double(height) / 2

        let top = Color(hue: hue, saturation: 0.65, value: 0.42)
        let bottom = Color(hue: hue + 0.06, saturation: 0.7, value: 0.1)
        let spot = Color(hue: hue + 0.02, saturation: 0.35, value: 0.95)
        canvas.fill { x, y in
            let t = y / Double(height)
            let dx = (x - centerX) / (0.3 * unit), dy = (y - centerY + 0.02 * unit) / (0.38 * unit)
            return (mix(top, bottom, t), spot, 0.55 * exp(-(dx * dx + dy * dy)))
        }
        for light in lights {
            let shape = Shape.ellipse(
                x: light.x * Double(width), y: light.y * Double(height), rx: light.radius * unit, ry: light.radius * unit,
                softness: 0.5)
            canvas.draw(shape, light.color, opacity: light.opacity)
        }

        /// A shape in units of the shorter side, relative to the centre, the figure a little below it.
        func ellipse(_ x: Double, _ y: Double, _ rx: Double, _ ry: Double) -> Shape {
            .ellipse(x: centerX + x * unit, y: centerY + (y + 0.04) * unit, rx: rx * unit, ry: ry * unit)
        }
        func capsule(_ x0: Double, _ y0: Double, _ x1: Double, _ y1: Double, _ radius: Double) -> Shape {
            .capsule(
                from: (centerX + x0 * unit, centerY + (y0 + 0.04) * unit), to: (centerX + x1 * unit, centerY + (y1 + 0.04) * unit),
                radius: radius * unit)
        }

        let skinShade = skin.scaled(0.86), dark = Color(40, 30, 35)
        switch style {
        case .bob: canvas.draw(ellipse(0, -0.02, 0.19, 0.25), hair)
        case .long: canvas.draw(ellipse(0, 0.06, 0.2, 0.33), hair)
        case .short: canvas.draw(ellipse(0, -0.015, 0.168, 0.215), hair)
        }
        canvas.draw(ellipse(0, 0.24, 0.075, 0.16), skinShade)
        canvas.draw(ellipse(0, 0.58, 0.38, 0.3), shirt)
        canvas.draw(ellipse(0, 0.285, 0.068, 0.05), skinShade)
        if style == .long {
            canvas.draw(ellipse(-0.17, 0.22, 0.05, 0.13), hair)
            canvas.draw(ellipse(0.17, 0.22, 0.05, 0.13), hair)
        }
        if style == .short {
            canvas.draw(ellipse(-0.155, 0.03, 0.028, 0.045), skinShade)
            canvas.draw(ellipse(0.155, 0.03, 0.028, 0.045), skinShade)
        }
        canvas.draw(ellipse(0, 0.02, 0.155, 0.2), skin)

        // The fringe: the top of a hair ellipse, cut along a wavy line.
        let fringeLine = centerY + (-0.075 + 0.04) * unit
        let amplitude = 0.02 * unit, wavelength = 0.32 * unit / fringeWaves
        canvas.draw(ellipse(0, -0.035, 0.17, 0.19).masked { x, y in
            let edge = fringeLine + amplitude * cos(2 * .pi * (x - centerX) / wavelength + fringePhase)
            return min(1, max(0, (edge - y) / 1.5))
        }, hair)

        for side in [-1.0, 1.0] {
            canvas.draw(capsule(side * 0.035, -0.052, side * 0.085, -0.044, 0.009), hair.scaled(0.8))
            canvas.draw(ellipse(side * 0.06, 0, 0.024, 0.016), dark)
            canvas.draw(ellipse(side * 0.06 + 0.008, -0.005, 0.006, 0.005), Color(255, 255, 255), opacity: 0.8)
            canvas.draw(ellipse(side * 0.095, 0.07, 0.035, 0.025), Color(235, 120, 120), opacity: 0.35)
        }
        let mouth = ellipse(0, 0.105, 0.04, 0.032)
        canvas.draw(mouth, Color(120, 30, 40))
        canvas.draw(ellipse(0, 0.128, 0.026, 0.014).intersected(with: mouth), Color(205, 95, 105))

        // A microphone held below the chin.
        let side = micSide
        canvas.draw(capsule(side * 0.09, 0.24, side * 0.15, 0.5, 0.018), Color(30, 30, 34))
        canvas.draw(ellipse(side * 0.112, 0.34, 0.036, 0.045), skin)
        canvas.draw(ellipse(side * 0.085, 0.215, 0.04, 0.04), Color(150, 150, 158))
        canvas.draw(ellipse(side * 0.085 - 0.012, 0.203, 0.014, 0.011), Color(225, 225, 232), opacity: 0.8)
        return canvas.bytes
    }

    private func mix(_ a: Color, _ b: Color, _ t: Double) -> Color {
        Color(a.red + (b.red - a.red) * t, a.green + (b.green - a.green) * t, a.blue + (b.blue - a.blue) * t)
    }
}

/// Something to paint: where it may cover (pixel bounds) and how much it covers each pixel (0…1).
private struct Shape {
    let minX, minY, maxX, maxY: Double
    let coverage: (_ x: Double, _ y: Double) -> Double

    /// An axis-aligned ellipse with an edge about one pixel wide (`softness` 0…1 widens it towards the centre).
    static func ellipse(x: Double, y: Double, rx: Double, ry: Double, softness: Double = 0) -> Shape {
        let sharpness = softness > 0 ? 1 / softness : min(rx, ry) / 1.2
        return Shape(minX: x - rx - 1, minY: y - ry - 1, maxX: x + rx + 1, maxY: y + ry + 1) { px, py in
            let dx = (px - x) / rx, dy = (py - y) / ry
            return min(1, max(0, (1 - (dx * dx + dy * dy).squareRoot()) * sharpness))
        }
    }

    /// A thick line with round ends.
    static func capsule(from a: (x: Double, y: Double), to b: (x: Double, y: Double), radius: Double) -> Shape {
        let dx = b.x - a.x, dy = b.y - a.y, lengthSquared = dx * dx + dy * dy
        return Shape(
            minX: min(a.x, b.x) - radius - 1, minY: min(a.y, b.y) - radius - 1,
            maxX: max(a.x, b.x) + radius + 1, maxY: max(a.y, b.y) + radius + 1
        ) { px, py in
            let t = min(1, max(0, ((px - a.x) * dx + (py - a.y) * dy) / lengthSquared))
            let ex = px - a.x - t * dx, ey = py - a.y - t * dy
            return min(1, max(0, (radius - (ex * ex + ey * ey).squareRoot()) / 1.2 + 0.5))
        }
    }

    func masked(by mask: @escaping (_ x: Double, _ y: Double) -> Double) -> Shape {
        Shape(minX: minX, minY: minY, maxX: maxX, maxY: maxY) { x, y in coverage(x, y) * mask(x, y) }
    }

    func intersected(with other: Shape) -> Shape {
        Shape(minX: max(minX, other.minX), minY: max(minY, other.minY), maxX: min(maxX, other.maxX), maxY: min(maxY, other.maxY)) {
            x, y in coverage(x, y) * other.coverage(x, y)
        }
    }
}

/// Floating-point RGB pixels, painted back to front.
private struct Canvas {
    let width, height: Int
    private var pixels: [Double]

    init(width: Int, height: Int) {
        self.width = width
        self.height = height
        pixels = Array(repeating: 0, count: width * height * 3)
    }

    /// Sets every pixel to `base` blended towards `over` by `amount`, as `paint` says for the pixel's centre.
    mutating func fill(_ paint: (_ x: Double, _ y: Double) -> (base: Portrait.Color, over: Portrait.Color, amount: Double)) {
        for y in 0..<height {
            for x in 0..<width {
                let (base, over, amount) = paint(Double(x) + 0.5, Double(y) + 0.5)
                let index = (y * width + x) * 3
                pixels[index] = base.red + (over.red - base.red) * amount
                pixels[index + 1] = base.green + (over.green - base.green) * amount
                pixels[index + 2] = base.blue + (over.blue - base.blue) * amount
            }
        }
    }

    mutating func draw(_ shape: Shape, _ color: Portrait.Color, opacity: Double = 1) {
        let x0 = max(0, Int(shape.minX.rounded(.down))), x1 = min(width - 1, Int(shape.maxX.rounded(.up)))
        let y0 = max(0, Int(shape.minY.rounded(.down))), y1 = min(height - 1, Int(shape.maxY.rounded(.up)))
        guard x0 <= x1, y0 <= y1 else { return }
        for y in y0...y1 {
            for x in x0...x1 {
                let alpha = opacity * shape.coverage(Double(x) + 0.5, Double(y) + 0.5)
                guard alpha > 0 else { continue }
                let index = (y * width + x) * 3
                pixels[index] += (color.red - pixels[index]) * alpha
                pixels[index + 1] += (color.green - pixels[index + 1]) * alpha
                pixels[index + 2] += (color.blue - pixels[index + 2]) * alpha
            }
        }
    }

    var bytes: [UInt8] {
        pixels.map { UInt8(min(255, max(0, $0.rounded()))) }
    }
}
