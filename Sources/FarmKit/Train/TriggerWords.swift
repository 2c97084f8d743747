/// Common English words, which make poor trigger words: a prompt using the word in its ordinary
/// sense would summon the subject too.
enum TriggerWords {
    static func isCommon(_ word: String) -> Bool { common.contains(word.lowercased()) }

    private static let common: Set<String> = [
        "a", "about", "after", "again", "all", "also", "an", "and", "any", "art", "as", "at", "baby", "back", "be", "beautiful",
        "because", "best", "big", "black", "blue", "body", "book", "boy", "but", "by", "can", "car", "cat", "child", "city", "come",
        "could", "cool", "dark", "day", "do", "dog", "dream", "even", "eye", "eyes", "face", "family", "father", "find", "fire",
        "first", "for", "friend", "from", "get", "girl", "give", "go", "gold", "good", "green", "guy", "hair", "hand", "happy",
        "have", "he", "head", "heart", "her", "here", "him", "his", "home", "house", "how", "i", "if", "in", "into", "it", "its",
        "just", "kid", "king", "know", "lady", "life", "light", "like", "little", "look", "love", "make", "man", "me", "men",
        "model", "moon", "more", "most", "mother", "music", "my", "name", "new", "night", "no", "not", "now", "of", "old", "on",
        "one", "only", "or", "other", "our", "out", "over", "paint", "people", "person", "photo", "picture", "portrait", "queen",
        "red", "rock", "say", "see", "she", "sing", "singer", "sky", "so", "some", "song", "star", "style", "sun", "take", "than",
        "that", "the", "their", "them", "then", "there", "these", "they", "think", "this", "time", "to", "tree", "two", "up",
        "us", "use", "very", "voice", "want", "water", "way", "we", "well", "what", "when", "which", "white", "who", "will",
        "with", "woman", "women", "work", "world", "would", "year", "you", "young", "your",
    ]
}
