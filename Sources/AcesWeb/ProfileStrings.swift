import Foundation

/// The interface text of a member's own pages (profile, my data, erasure), in one language.
struct ProfileStrings: Sendable {
    var myProfile: String
    var editProfile: String
    var editIntro: String
    var saved: String
    var save: String
    var name: String
    var bio: String
    var bioHint: String
    var linksHint: String
    var countryHint: String
    var visibility: String
    var visibilityPublic: String
    var visibilityMembers: String
    var visibilityChapter: String
    var emailShown: String
    var emailShownHint: String
    var otherChapter: @Sendable (String) -> String
    var openThere: String
    var fieldsHint: @Sendable (String) -> String
    var signInFirst: String
    var myData: String
    var myDataIntro: String
    var record: String
    var field: String
    var value: String
    var holders: String
    var holdersIntro: String
    var holdsLatest: String
    var notKnown: String
    var thisNode: String
    var history: String
    var historyIntro: String
    var when: String
    var chapterCol: String
    var by: String
    var byMember: String
    var byAdmin: String
    var change: String
    var access: String
    var accessIntro: String
    var session: String
    var link: String
    var created: String
    var expires: String
    var live: String
    var ended: String
    var downloadJSON: String
    var downloadVCard: String
    var noValue: String
    var erase: String
    var eraseIntro: String
    var eraseConfirm: String
    var eraseButton: String
    var eraseQueued: String
    var eraseDeclined: String
    var erased: String
    var eraseLink: String
    var tooMany: @Sendable (Int) -> String
    var crossSite: String
    var invalid: String

    static let english = ProfileStrings(
        myProfile: "My profile", editProfile: "Edit my profile",
        editIntro:
            "What you change here is signed by your chapter's node and reaches every chapter's directory within seconds. Your email and membership status are kept by your chapter's admins.",
        saved: "Your profile is saved.", save: "Save my profile", name: "Name", bio: "About you",
        bioHint: "At most 4,000 bytes; a blank line starts a new paragraph.", linksHint: "One web address per line, at most 10.",
        countryHint: "Two letters, such as FR, GB or DE.", visibility: "Who sees my profile",
        visibilityPublic: "Everyone, signed in or not", visibilityMembers: "Signed-in members",
        visibilityChapter: "Signed-in members of my chapter", emailShown: "Show my email to signed-in members",
        emailShownHint: "Visitors who are not signed in never see it.",
        otherChapter: { "Your profile is kept by the \($0) chapter's node: edit it, see your data and ask for erasure there." },
        openThere: "Open my profile there", fieldsHint: { "Fields marked \($0) are required." },
        signInFirst: "Sign in with the personal link your chapter sent you to see and edit your profile.", myData: "My data",
        myDataIntro:
            "Everything the federation holds about you: your record with every field, the chapters that keep a copy, every change made to it and your sign-ins on this node.",
        record: "My record", field: "Field", value: "Value", holders: "Who holds it",
        holdersIntro:
            "Every chapter's node keeps a copy of the whole directory, so each chapter below holds your record. This node shows, from the last time it synced with each one, whether it already holds the latest change to your record.",
        holdsLatest: "holds the latest change", notKnown: "not known yet (no sync answer since the latest change)",
        thisNode: "this node", history: "Changes to my record",
        historyIntro:
            "Every signed change in the logs this node holds, oldest first: when, which chapter's node signed it, and who made it.",
        when: "When", chapterCol: "Chapter", by: "By", byMember: "you", byAdmin: "chapter admins", change: "Change",
        access: "My sign-ins on this node",
        accessIntro: "The personal links your chapter sent you and the sessions they opened (the secrets themselves are never kept).",
        session: "Session", link: "Sign-in link", created: "Created", expires: "Expires", live: "active", ended: "ended",
        downloadJSON: "Download my data (JSON)", downloadVCard: "Download my contact card (vCard)", noValue: "—",
        erase: "Erase me",
        eraseIntro:
            "Erasure removes your record from every chapter's node for good: your name, email and every other field leave the directory and the logs; only the signed digests stay, which reveal nothing. It cannot be undone, and your sign-in ends.",
        eraseConfirm: "I understand: erase my data from the whole federation.", eraseButton: "Erase my data",
        eraseQueued: "Your erasure request is with your chapter's admins; they carry it out or write to you.",
        eraseDeclined: "Your chapter's admins declined your last erasure request; ask again or write to them.",
        erased: "Your data is erased on this node, and every other node erases it when it next syncs. You are signed out.",
        eraseLink: "Ask for erasure of my data",
        tooMany: { "Too many requests at once: at most \($0) per minute. Wait a minute and try again." },
        crossSite: "This form was not sent from your own profile page on this directory; open the page and send it again.",
        invalid: "The profile was not saved")

    static let french = ProfileStrings(
        myProfile: "Mon profil", editProfile: "Modifier mon profil",
        editIntro:
            "Ce que vous changez ici est signé par le nœud de votre section et parvient à l'annuaire de chaque section en quelques secondes. Votre e-mail et votre statut de membre sont gérés par les administrateurs de votre section.",
        saved: "Votre profil est enregistré.", save: "Enregistrer mon profil", name: "Nom", bio: "À propos de vous",
        bioHint: "Au plus 4 000 octets ; une ligne vide commence un nouveau paragraphe.",
        linksHint: "Une adresse web par ligne, 10 au plus.", countryHint: "Deux lettres, comme FR, GB ou DE.",
        visibility: "Qui voit mon profil", visibilityPublic: "Tout le monde, connecté ou non",
        visibilityMembers: "Les membres connectés", visibilityChapter: "Les membres connectés de ma section",
        emailShown: "Montrer mon e-mail aux membres connectés", emailShownHint: "Les visiteurs non connectés ne le voient jamais.",
        otherChapter: {
            "Votre profil est géré par le nœud de la section \($0) : modifiez-le, consultez vos données et demandez leur effacement là-bas."
        },
        openThere: "Ouvrir mon profil là-bas", fieldsHint: { "Les champs marqués \($0) sont obligatoires." },
        signInFirst: "Connectez-vous avec le lien personnel envoyé par votre section pour voir et modifier votre profil.",
        myData: "Mes données",
        myDataIntro:
            "Tout ce que la fédération détient sur vous : votre fiche avec chacun de ses champs, les sections qui en gardent une copie, chaque modification qui y a été faite et vos connexions sur ce nœud.",
        record: "Ma fiche", field: "Champ", value: "Valeur", holders: "Qui la détient",
        holdersIntro:
            "Le nœud de chaque section garde une copie de tout l'annuaire : chaque section ci-dessous détient donc votre fiche. Ce nœud indique, d'après sa dernière synchronisation avec chacune, si elle détient déjà la dernière modification de votre fiche.",
        holdsLatest: "détient la dernière modification",
        notKnown: "pas encore connu (aucune réponse de synchronisation depuis la dernière modification)", thisNode: "ce nœud",
        history: "Modifications de ma fiche",
        historyIntro:
            "Chaque modification signée dans les journaux que détient ce nœud, de la plus ancienne à la plus récente : quand, quel nœud de section l'a signée, et qui l'a faite.",
        when: "Quand", chapterCol: "Section", by: "Par", byMember: "vous", byAdmin: "les administrateurs de la section",
        change: "Modification", access: "Mes connexions sur ce nœud",
        accessIntro:
            "Les liens personnels envoyés par votre section et les sessions qu'ils ont ouvertes (les secrets eux-mêmes ne sont jamais gardés).",
        session: "Session", link: "Lien de connexion", created: "Créé", expires: "Expire", live: "active", ended: "terminée",
        downloadJSON: "Télécharger mes données (JSON)", downloadVCard: "Télécharger ma fiche contact (vCard)", noValue: "—",
        erase: "M'effacer",
        eraseIntro:
            "L'effacement retire votre fiche du nœud de chaque section pour de bon : votre nom, votre e-mail et tous les autres champs quittent l'annuaire et les journaux ; seules restent les empreintes signées, qui ne révèlent rien. C'est définitif, et votre connexion prend fin.",
        eraseConfirm: "Je comprends : effacer mes données de toute la fédération.", eraseButton: "Effacer mes données",
        eraseQueued:
            "Votre demande d'effacement est entre les mains des administrateurs de votre section ; ils l'exécutent ou vous écrivent.",
        eraseDeclined:
            "Les administrateurs de votre section ont refusé votre dernière demande d'effacement ; redemandez-le ou écrivez-leur.",
        erased:
            "Vos données sont effacées sur ce nœud, et chaque autre nœud les efface à sa prochaine synchronisation. Vous êtes déconnecté.",
        eraseLink: "Demander l'effacement de mes données",
        tooMany: { "Trop de demandes à la fois : \($0) par minute au plus. Attendez une minute et réessayez." },
        crossSite:
            "Ce formulaire n'a pas été envoyé depuis votre propre page de profil sur cet annuaire ; ouvrez la page et renvoyez-le.",
        invalid: "Le profil n'a pas été enregistré")
}

extension Language {
    var profile: ProfileStrings { self == .en ? .english : .french }

    /// A field error from the shared validation (`field: reason`, in English) in this language.
    func fieldError(_ sentence: String) -> String {
        guard self == .fr else { return sentence }
        let fr: [(String, String)] = [
            ("must not be empty", "ne doit pas être vide"),
            ("must not contain control characters", "ne doit pas contenir de caractères de contrôle"),
            ("must be a two-letter ISO country code such as FR", "doit être un code pays ISO de deux lettres comme FR"),
            ("must be a list of at most 10 http or https URLs", "doit être une liste d'au plus 10 adresses http ou https"),
            ("is required and cannot be cleared", "est obligatoire et ne peut pas être vidé"),
            ("must be one of", "doit être l'un de"), ("must be at most", "doit faire au plus"), ("bytes of UTF-8", "octets d'UTF-8"),
            ("this one has", "celui-ci en a"), ("must not stack more than", "ne doit pas empiler plus de"),
            ("combining marks on one character", "signes diacritiques sur un caractère"), ("has a link that", "a un lien qui"),
        ]
        var out = sentence
        for (en, f) in fr { out = out.replacingOccurrences(of: en, with: f) }
        return out
    }
}
