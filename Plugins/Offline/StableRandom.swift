/// A random number generator that gives the same sequence for the same seed on every machine and
/// every run (Swift's `Hasher` and `SystemRandomNumberGenerator` do not): SplitMix64.
struct StableRandom {
    private var state: UInt64

    init(seed: UInt64) {
        state = seed
    }

    /// Seeded from an integer and a text: FNV-1a over both.
    init(seed: Int, text: String) {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in withUnsafeBytes(of: Int64(seed).littleEndian, Array.init) + Array(text.utf8) {
            hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01b3
        }
        self.init(seed: hash)
    }

    mutating func next() -> UInt64 {
        state &+= 0x9e37_79b9_7f4a_7c15
        var z = state
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }

    /// A number in `range`, from the top 53 bits (the same on every platform, unlike `Double.random(in:using:)`
    /// whose algorithm the standard library may change).
    mutating func unit(_ range: ClosedRange<Double> = 0...1) -> Double {
        range.lowerBound + Double(next() >> 11) / Double(1 << 53) * (range.upperBound - range.lowerBound)
    }

    /// One of `choices`.
    mutating func pick<T>(_ choices: [T]) -> T {
        choices[Int(next() % UInt64(choices.count))]
    }
}
