package mail

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Notice names one of the e-mails the product sends about an account.
type Notice int

// The notices. Each is sent after the event it reports, except the three that
// carry a link, which ask the customer to act.
const (
	// TwoFactorEnabled: the customer turned on two-factor sign-in.
	TwoFactorEnabled Notice = iota + 1
	// TwoFactorDisabled: the customer turned off two-factor sign-in.
	TwoFactorDisabled
	// TwoFactorReset: support removed two-factor sign-in. The reason support
	// recorded stays out of the mail; the mailbox may be read by someone else.
	TwoFactorReset
	// RecoveryCodeUsed: a recovery code was spent; CodesLeft says how many remain.
	RecoveryCodeUsed
	// RecoveryCodesRegenerated: a new set of recovery codes replaced the old one.
	RecoveryCodesRegenerated
	// NewDeviceConfirmed: a new authenticator app was set up and confirmed;
	// the one used before no longer gives valid codes.
	NewDeviceConfirmed
	// PasswordChanged: the customer changed the password while signed in.
	PasswordChanged
	// PasswordReset: the password was set through a reset link.
	PasswordReset
	// CodeReplayed: a correct password came with an already used code, so
	// someone may know the password and have seen a code.
	CodeReplayed
	// SignupExisting: someone tried to sign up with an address that already
	// has an account; SignInURL points to the sign-in page.
	SignupExisting
	// PasswordResetLink: the reset link in Link, valid for ValidFor.
	PasswordResetLink
	// RecoveryRequestConfirm: the link in Link confirms a request for support
	// help with signing in, valid for ValidFor when it is set.
	RecoveryRequestConfirm
)

// Notices lists every Notice, for tests and for previews.
func Notices() []Notice {
	return []Notice{
		TwoFactorEnabled, TwoFactorDisabled, TwoFactorReset, RecoveryCodeUsed,
		RecoveryCodesRegenerated, NewDeviceConfirmed, PasswordChanged, PasswordReset,
		CodeReplayed, SignupExisting, PasswordResetLink, RecoveryRequestConfirm,
	}
}

// String returns the Go name of n.
func (n Notice) String() string {
	names := [...]string{"", "TwoFactorEnabled", "TwoFactorDisabled", "TwoFactorReset",
		"RecoveryCodeUsed", "RecoveryCodesRegenerated", "NewDeviceConfirmed",
		"PasswordChanged", "PasswordReset", "CodeReplayed", "SignupExisting",
		"PasswordResetLink", "RecoveryRequestConfirm"}
	if n < 1 || int(n) >= len(names) {
		return "Notice(" + strconv.Itoa(int(n)) + ")"
	}
	return names[n]
}

// NoticeData fills in a Notice. Fields a notice does not use are ignored, and
// in particular Link only ever appears in PasswordResetLink and
// RecoveryRequestConfirm, so a token cannot leak into another mail by mistake.
type NoticeData struct {
	// Lang is "en" or "ru"; anything else means "en".
	Lang string
	// Issuer is the product name shown to the customer, as in the
	// authenticator app.
	Issuer string
	// Email is the recipient.
	Email string
	// Time is when the event happened; the zero time leaves it out.
	Time time.Time
	// IP is the address the request came from; empty leaves it out.
	IP string
	// Link is the single-use link of PasswordResetLink and
	// RecoveryRequestConfirm.
	Link string
	// SignInURL is the sign-in page, for SignupExisting.
	SignInURL string
	// Support is how to reach support (an address or a page); empty leaves it
	// out and the text just says "contact support".
	Support string
	// CodesLeft is the number of unused recovery codes, for RecoveryCodeUsed.
	CodesLeft int
	// ValidFor is how long Link works; zero leaves it out.
	ValidFor time.Duration
}

// Compose writes the subject and text of notice n for d.Email in d.Lang. The
// text says when and from which IP address, when known, and whom to contact if
// the customer did not do this.
func Compose(n Notice, d NoticeData) Message {
	d = cleanData(d)
	t := english()
	if strings.EqualFold(strings.TrimSpace(d.Lang), "ru") {
		t = russian()
	}
	subject, lead, closing := t.notice(n, d)

	var b strings.Builder
	b.WriteString(t.greeting + "\n\n" + lead + "\n")
	if !d.Time.IsZero() || d.IP != "" {
		b.WriteString("\n")
	}
	if !d.Time.IsZero() {
		b.WriteString(t.timeLabel + ": " + t.formatTime(d.Time) + "\n")
	}
	if d.IP != "" {
		b.WriteString(t.ipLabel + ": " + d.IP + "\n")
	}
	b.WriteString("\n" + closing + "\n")
	if d.Support != "" {
		b.WriteString(t.supportLabel + ": " + d.Support + "\n")
	}
	b.WriteString("\n" + t.signature(d.Issuer) + "\n")

	if d.Issuer != "" {
		subject = d.Issuer + ": " + subject
	}
	return Message{To: d.Email, Subject: subject, Text: b.String()}
}

// cleanData keeps every value that lands in the text on one line, so that a
// crafted value (an IP from a proxy header, say) cannot add lines of its own.
func cleanData(d NoticeData) NoticeData {
	for _, s := range []*string{&d.Issuer, &d.Email, &d.IP, &d.Link, &d.SignInURL, &d.Support} {
		*s = oneLine(*s)
	}
	return d
}

func oneLine(s string) string {
	s = strings.Map(func(r rune) rune {
		if r < ' ' || r == 0x7f || r == '\u2028' || r == '\u2029' {
			return ' '
		}
		return r
	}, s)
	return strings.TrimSpace(s)
}

// language holds the words of one language that every notice shares.
type language struct {
	greeting     string
	timeLabel    string
	ipLabel      string
	supportLabel string
	formatTime   func(time.Time) string
	signature    func(issuer string) string
	// notice returns the subject, the leading paragraph and the closing
	// paragraph of n.
	notice func(n Notice, d NoticeData) (subject, lead, closing string)
}

func english() language {
	return language{
		greeting:     "Hello,",
		timeLabel:    "Time",
		ipLabel:      "IP address",
		supportLabel: "Support",
		formatTime:   func(t time.Time) string { return t.UTC().Format(time.RFC1123) },
		signature: func(issuer string) string {
			if issuer == "" {
				return "Thank you."
			}
			return "Thank you,\n" + issuer
		},
		notice: englishNotice,
	}
}

const enNotYou = "If this wasn't you, please contact support right away."

func englishNotice(n Notice, d NoticeData) (subject, lead, closing string) {
	switch n {
	case TwoFactorEnabled:
		return "Two-factor authentication turned on",
			"Two-factor authentication was turned on for your account. From now on, " +
				"signing in needs your password and a code from your authenticator app.",
			enNotYou
	case TwoFactorDisabled:
		return "Two-factor authentication turned off",
			"Two-factor authentication was turned off for your account. Signing in now " +
				"needs only your password.",
			enNotYou
	case TwoFactorReset:
		return "Two-factor authentication reset by support",
			"Our support team reset two-factor authentication for your account. " +
				"You can set it up again after you sign in.",
			"If you did not expect this, please contact support right away."
	case RecoveryCodeUsed:
		return "A recovery code was used",
			"A recovery code was used to sign in to your account. " + enCodesLeft(d.CodesLeft),
			enNotYou
	case RecoveryCodesRegenerated:
		return "New recovery codes",
			"New recovery codes were created for your account. The old ones no longer work.",
			enNotYou
	case NewDeviceConfirmed:
		return "Two-factor authentication moved to a new device",
			"A new authenticator app was set up for your account. Sign-in codes now " +
				"come from the new device; the app you used before no longer works.",
			enNotYou + " We also recommend changing your password."
	case PasswordChanged:
		return "Your password was changed",
			"The password for your account was changed.",
			enNotYou
	case PasswordReset:
		return "Your password was reset",
			"The password for your account was reset with a password reset link.",
			enNotYou
	case CodeReplayed:
		return "A used sign-in code was entered again",
			"Someone signed in to your account with the correct password and a " +
				"two-factor code that had already been used, so the sign-in was refused. " +
				"Someone may know your password and have seen one of your codes. " +
				"We recommend changing your password now.",
			enNotYou
	case SignupExisting:
		lead := "Someone tried to create an account with this e-mail address, but an " +
			"account with it already exists. If it was you, sign in or reset your password"
		closing := "If it wasn't you, you can ignore this message: nothing has changed. " +
			"If these messages keep coming, please contact support."
		if d.SignInURL != "" {
			return "Sign-up attempt with your address", lead + ":\n\n" + d.SignInURL, closing
		}
		return "Sign-up attempt with your address", lead + ".", closing
	case PasswordResetLink:
		return "Reset your password",
			"To choose a new password, open this link" + enValid(d.ValidFor) + ":\n\n" + d.Link,
			"If you didn't ask for this, ignore this message: your password stays " +
				"the same. If these messages keep coming, please contact support."
	case RecoveryRequestConfirm:
		return "Confirm your request for help with signing in",
			"We received a request for support help with signing in to your account. " +
				"To confirm it, open this link" + enValid(d.ValidFor) + ":\n\n" + d.Link,
			"If you didn't ask for help, do not open the link, and please contact " +
				"support right away."
	}
	return "Account notice", "There was a change to your account.", enNotYou
}

func enCodesLeft(n int) string {
	switch {
	case n <= 0:
		return "You have no recovery codes left; please create new ones now."
	case n == 1:
		return "You have 1 recovery code left; please create new ones soon."
	}
	return fmt.Sprintf("You have %d recovery codes left.", n)
}

// enValid returns " within N minutes", or "" when d is under a minute.
func enValid(d time.Duration) string {
	m := int(d / time.Minute)
	switch {
	case m <= 0:
		return ""
	case m == 1:
		return " within 1 minute"
	}
	return fmt.Sprintf(" within %d minutes", m)
}

func russian() language {
	return language{
		greeting:     "Здравствуйте!",
		timeLabel:    "Время",
		ipLabel:      "IP-адрес",
		supportLabel: "Поддержка",
		formatTime:   russianTime,
		signature: func(issuer string) string {
			if issuer == "" {
				return "Спасибо."
			}
			return "С уважением,\n" + issuer
		},
		notice: russianNotice,
	}
}

const ruNotYou = "Если это были не вы, пожалуйста, сразу обратитесь в поддержку."

func russianNotice(n Notice, d NoticeData) (subject, lead, closing string) {
	switch n {
	case TwoFactorEnabled:
		return "Двухфакторная аутентификация включена",
			"Для вашей учётной записи включена двухфакторная аутентификация. Теперь для " +
				"входа нужны пароль и код из приложения-аутентификатора.",
			ruNotYou
	case TwoFactorDisabled:
		return "Двухфакторная аутентификация отключена",
			"Для вашей учётной записи отключена двухфакторная аутентификация. Теперь для " +
				"входа нужен только пароль.",
			ruNotYou
	case TwoFactorReset:
		return "Поддержка сбросила двухфакторную аутентификацию",
			"Служба поддержки сбросила двухфакторную аутентификацию для вашей учётной " +
				"записи. Вы можете снова настроить её после входа.",
			"Если вы этого не ожидали, пожалуйста, сразу обратитесь в поддержку."
	case RecoveryCodeUsed:
		return "Использован код восстановления",
			"Для входа в вашу учётную запись использован код восстановления. " +
				ruCodesLeft(d.CodesLeft),
			ruNotYou
	case RecoveryCodesRegenerated:
		return "Новые коды восстановления",
			"Для вашей учётной записи созданы новые коды восстановления. Старые коды " +
				"больше не действуют.",
			ruNotYou
	case NewDeviceConfirmed:
		return "Двухфакторная аутентификация перенесена на новое устройство",
			"Для вашей учётной записи подключено новое приложение-аутентификатор. Коды " +
				"для входа теперь даёт новое устройство; прежнее приложение больше не работает.",
			ruNotYou + " Также рекомендуем сменить пароль."
	case PasswordChanged:
		return "Пароль изменён",
			"Пароль вашей учётной записи изменён.",
			ruNotYou
	case PasswordReset:
		return "Пароль сброшен",
			"Пароль вашей учётной записи сброшен по ссылке для сброса пароля.",
			ruNotYou
	case CodeReplayed:
		return "Повторно введён уже использованный код",
			"Кто-то ввёл верный пароль от вашей учётной записи и код двухфакторной " +
				"аутентификации, который уже был использован, поэтому вход отклонён. " +
				"Возможно, кто-то знает ваш пароль и видел один из ваших кодов. " +
				"Рекомендуем сейчас же сменить пароль.",
			ruNotYou
	case SignupExisting:
		lead := "Кто-то пытался зарегистрироваться с этим адресом электронной почты, но " +
			"учётная запись с ним уже существует. Если это были вы, войдите или " +
			"сбросьте пароль"
		closing := "Если это были не вы, просто не обращайте внимания на это письмо: " +
			"ничего не изменилось. Если такие письма приходят снова, обратитесь в поддержку."
		if d.SignInURL != "" {
			return "Попытка регистрации с вашим адресом", lead + ":\n\n" + d.SignInURL, closing
		}
		return "Попытка регистрации с вашим адресом", lead + ".", closing
	case PasswordResetLink:
		return "Сброс пароля",
			"Чтобы задать новый пароль, откройте эту ссылку" + ruValid(d.ValidFor) + ":\n\n" +
				d.Link,
			"Если вы не запрашивали сброс, просто не обращайте внимания на это письмо: " +
				"пароль останется прежним. Если такие письма приходят снова, обратитесь " +
				"в поддержку."
	case RecoveryRequestConfirm:
		return "Подтвердите запрос помощи со входом",
			"Мы получили запрос в службу поддержки о помощи со входом в вашу учётную " +
				"запись. Чтобы подтвердить его, откройте эту ссылку" + ruValid(d.ValidFor) +
				":\n\n" + d.Link,
			"Если вы не просили о помощи, не открывайте ссылку и, пожалуйста, сразу " +
				"обратитесь в поддержку."
	}
	return "Уведомление об учётной записи", "В вашей учётной записи произошли изменения.",
		ruNotYou
}

func ruCodesLeft(n int) string {
	if n <= 0 {
		return "Кодов восстановления не осталось, пожалуйста, сейчас же создайте новые."
	}
	verb := "осталось"
	if ruPlural(n, "1", "2", "5") == "1" {
		verb = "остался"
	}
	s := fmt.Sprintf("У вас %s %d %s.", verb, n, ruPlural(n, "код", "кода", "кодов"))
	if n == 1 {
		s += " Пожалуйста, создайте новые коды."
	}
	return s
}

// ruValid returns " (она действует N минут)" with the right form of the noun,
// or "" when d is under a minute.
func ruValid(d time.Duration) string {
	m := int(d / time.Minute)
	if m <= 0 {
		return ""
	}
	return fmt.Sprintf(" (она действует %d %s)", m, ruPlural(m, "минуту", "минуты", "минут"))
}

// ruPlural picks the Russian form for n: one (1, 21, 101), few (2-4, 22-24)
// or many (0, 5-20, 25-30, 111).
func ruPlural(n int, one, few, many string) string {
	n10, n100 := n%10, n%100
	switch {
	case n10 == 1 && n100 != 11:
		return one
	case n10 >= 2 && n10 <= 4 && (n100 < 12 || n100 > 14):
		return few
	}
	return many
}

// russianTime writes t in UTC as "5 марта 2026 г., 14:07:09 UTC", with the
// month in the genitive case as a Russian date needs.
func russianTime(t time.Time) string {
	months := [...]string{"января", "февраля", "марта", "апреля", "мая", "июня",
		"июля", "августа", "сентября", "октября", "ноября", "декабря"}
	t = t.UTC()
	return fmt.Sprintf("%d %s %d г., %s UTC",
		t.Day(), months[t.Month()-1], t.Year(), t.Format("15:04:05"))
}
