import Foundation

/// The interface languages of the public pages.
enum Language: String, CaseIterable, Sendable {
    case en
    case fr

    var locale: Locale { Locale(identifier: self == .en ? "en_GB" : "fr_FR") }
    var strings: Strings { self == .en ? .english : .french }

    /// The language to answer in: `?lang=`, then the `aces_lang` cookie, then the best match of
    /// `Accept-Language` (q-values honoured), then English.
    static func choose(query: String?, cookie: String?, acceptLanguage: String?) -> Language {
        if let q = query.flatMap(Language.init(rawValue:)) { return q }
        if let c = cookie.flatMap(Language.init(rawValue:)) { return c }
        var best: (Language, Double)?
        for part in (acceptLanguage ?? "").split(separator: ",").prefix(20) {
            let pieces = part.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }
            guard let tag = pieces.first?.lowercased(), !tag.isEmpty else { continue }
            let primary = String(tag.split(separator: "-").first ?? "")
            var q = 1.0
            for p in pieces.dropFirst() where p.hasPrefix("q=") { q = Double(p.dropFirst(2)) ?? 0 }
            guard q > 0, let lang = Language(rawValue: primary) else { continue }
            if best == nil || q > best!.1 { best = (lang, q) }
        }
        return best?.0 ?? .en
    }

    /// A country's name in this language.
    func country(_ code: String) -> String { locale.localizedString(forRegionCode: code) ?? code }
}

/// Every piece of interface text, in one language.
struct Strings: Sendable {
    var siteName: String
    var tagline: String
    var skip: String
    var directory: String
    var calendar: String
    var searchLegend: String
    var searchLabel: String
    var searchHint: String
    var chapter: String
    var country: String
    var allChapters: String
    var allCountries: String
    var search: String
    var clear: String
    var members: @Sendable (Int) -> String
    var manyMembers: String
    var noMembers: String
    var previous: String
    var next: String
    var page: @Sendable (Int, Int) -> String
    var signedIn: String
    var signOut: String
    var signInHint: String
    var organisation: String
    var role: String
    var city: String
    var email: String
    var links: String
    var about: String
    var downloadCard: String
    var backToDirectory: String
    var visibleToMembers: String
    var visibleToChapter: String
    var upcoming: String
    var noEvents: String
    var cancelled: String
    var subscribe: String
    var subscribeHint: String
    var when: String
    var venue: String
    var organisedBy: String
    var places: String
    var eventPage: String
    var addToCalendar: String
    var backToCalendar: String
    var notFound: String
    var notFoundText: String
    var badRequest: String
    var signIn: String
    var signInText: @Sendable (String) -> String
    var signInButton: String
    var badLink: String
    var crossSite: String
    var footer: @Sendable (String) -> String
    var api: String
    var otherLanguage: String
    var otherLanguageName: String

    static let english = Strings(
        siteName: "Aces", tagline: "The European association of social media professionals",
        skip: "Skip to content", directory: "Directory", calendar: "Calendar", searchLegend: "Find members",
        searchLabel: "Search members",
        searchHint: "Name, organisation, role, city or biography; the start of a word is enough, accents do not matter.",
        chapter: "Chapter", country: "Country", allChapters: "All chapters", allCountries: "All countries", search: "Search",
        clear: "Clear", members: { $0 == 1 ? "1 member" : "\($0.formatted()) members" },
        manyMembers: "More than 1,000 members: add a word or a filter to narrow the search",
        noMembers: "No member matches this search. Try fewer or shorter words.", previous: "Previous", next: "Next",
        page: { "Page \($0) of \($1)" }, signedIn: "Signed in as a member", signOut: "Sign out",
        signInHint: "Members: sign in with the personal link your chapter sent you to see more profiles.",
        organisation: "Organisation", role: "Role", city: "Location", email: "Email", links: "Links", about: "About",
        downloadCard: "Download contact card (vCard)", backToDirectory: "Back to the directory",
        visibleToMembers: "Visible to signed-in members only", visibleToChapter: "Visible to members of this chapter only",
        upcoming: "Upcoming events", noEvents: "No upcoming events.", cancelled: "Cancelled",
        subscribe: "Subscribe to this calendar",
        subscribeHint: "Add this address to your calendar app (Apple Calendar, Google Calendar, Outlook, Thunderbird):",
        when: "When", venue: "Where", organisedBy: "Organised by", places: "Places", eventPage: "Event page",
        addToCalendar: "Add to my calendar (.ics)", backToCalendar: "Back to the calendar", notFound: "Page not found",
        notFoundText: "There is nothing here, or it is not visible to you.", badRequest: "This request cannot be answered",
        signIn: "Sign in", signInText: { "This personal link signs you in as a member of the \($0) chapter on this node." },
        signInButton: "Sign in",
        badLink: "This sign-in link is not valid: it was already used, expired or was revoked. Ask your chapter for a new one.",
        crossSite: "This form was sent from another site; sign in and out from this directory's own pages.",
        footer: { "Served by the \($0) chapter's node. Every change is signed by the chapter that made it." },
        api: "JSON API", otherLanguage: "fr", otherLanguageName: "Français")

    static let french = Strings(
        siteName: "Aces", tagline: "L'association européenne des professionnels des réseaux sociaux",
        skip: "Aller au contenu", directory: "Annuaire", calendar: "Agenda", searchLegend: "Trouver des membres",
        searchLabel: "Rechercher des membres",
        searchHint: "Nom, organisation, fonction, ville ou biographie ; le début d'un mot suffit, les accents sont ignorés.",
        chapter: "Section", country: "Pays", allChapters: "Toutes les sections", allCountries: "Tous les pays",
        search: "Rechercher", clear: "Effacer",
        members: { $0 <= 1 ? "\($0) membre" : "\($0.formatted(.number.locale(Locale(identifier: "fr_FR")))) membres" },
        manyMembers: "Plus de 1 000 membres : ajoutez un mot ou un filtre pour affiner la recherche",
        noMembers: "Aucun membre ne correspond à cette recherche. Essayez des mots moins nombreux ou plus courts.",
        previous: "Précédent", next: "Suivant", page: { "Page \($0) sur \($1)" }, signedIn: "Connecté en tant que membre",
        signOut: "Se déconnecter",
        signInHint: "Membres : connectez-vous avec le lien personnel envoyé par votre section pour voir plus de profils.",
        organisation: "Organisation", role: "Fonction", city: "Lieu", email: "E-mail", links: "Liens", about: "À propos",
        downloadCard: "Télécharger la fiche contact (vCard)", backToDirectory: "Retour à l'annuaire",
        visibleToMembers: "Visible uniquement par les membres connectés",
        visibleToChapter: "Visible uniquement par les membres de cette section", upcoming: "Événements à venir",
        noEvents: "Aucun événement à venir.", cancelled: "Annulé", subscribe: "S'abonner à cet agenda",
        subscribeHint: "Ajoutez cette adresse à votre application d'agenda (Apple Calendrier, Google Agenda, Outlook, Thunderbird) :",
        when: "Quand", venue: "Où", organisedBy: "Organisé par", places: "Places", eventPage: "Page de l'événement",
        addToCalendar: "Ajouter à mon agenda (.ics)", backToCalendar: "Retour à l'agenda", notFound: "Page introuvable",
        notFoundText: "Il n'y a rien ici, ou ce n'est pas visible pour vous.", badRequest: "Cette requête ne peut pas aboutir",
        signIn: "Connexion", signInText: { "Ce lien personnel vous connecte en tant que membre de la section \($0) sur ce nœud." },
        signInButton: "Se connecter",
        badLink:
            "Ce lien de connexion n'est pas valide : il a déjà servi, il a expiré ou il a été révoqué. Demandez-en un nouveau à votre section.",
        crossSite: "Ce formulaire a été envoyé depuis un autre site ; connectez-vous et déconnectez-vous depuis les pages de cet annuaire.",
        footer: { "Servi par le nœud de la section \($0). Chaque modification est signée par la section qui l'a faite." },
        api: "API JSON", otherLanguage: "en", otherLanguageName: "English")
}
