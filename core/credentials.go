package core

import (
	"os"
	"strings"
)

// A credential (the Tencent token, the OpenIM secret) can be given inline,
// by the name of an environment variable, or by the path of a file, so that
// it need not sit in a config file or a container label. Whatever the
// source, a credential that is configured must resolve to a value: an unset
// variable or an empty file would otherwise turn verification off without
// a word, and a gateway that accepts unsigned callbacks looks exactly like
// one that works. Only a credential configured nowhere means "not checked",
// and Engine.Warnings says so.

// credential is one credential's three possible sources, with the config
// keys that name them in errors.
type credential struct {
	inline, env, file          string
	inlineKey, envKey, fileKey string
}

// resolve returns the credential's value, "" when no source is configured,
// or an ErrConfig naming the key and, for the environment, the variable.
// Errors never contain the value.
func (c credential) resolve() (string, error) {
	sources := 0
	for _, v := range []string{c.inline, c.env, c.file} {
		if v != "" {
			sources++
		}
	}
	if sources > 1 {
		return "", configErr(c.inlineKey, "set only one of %s, %s and %s", c.inlineKey, c.envKey, c.fileKey)
	}
	switch {
	case c.env != "":
		name := strings.TrimSpace(c.env)
		v := strings.TrimSpace(os.Getenv(name))
		if v == "" {
			return "", configErr(c.envKey, "environment variable %s is unset or empty; set it, or remove %s to run without this check", name, c.envKey)
		}
		return v, nil
	case c.file != "":
		data, err := os.ReadFile(c.file)
		if err != nil {
			return "", configErr(c.fileKey, "reading %s: %s", c.file, err.Error())
		}
		v := strings.TrimSpace(string(data))
		if v == "" {
			return "", configErr(c.fileKey, "%s is empty; put the credential in it, or remove %s to run without this check", c.file, c.fileKey)
		}
		return v, nil
	case c.inline != "" && strings.TrimSpace(c.inline) == "":
		return "", configErr(c.inlineKey, "is blank; remove it to run without this check")
	}
	return c.inline, nil
}

// verificationWarnings lists the checks that are off because nothing
// configures them, for the platforms this config answers.
func verificationWarnings(s *settings) []string {
	var warnings []string
	for _, p := range s.platforms {
		warnings = append(warnings, p.warnings(s)...)
	}
	return warnings
}
