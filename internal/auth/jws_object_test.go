package auth

import "testing"

// checkObject accepts exactly the texts jsonObject accepts.
func TestCheckObjectAgreesWithJSONObject(t *testing.T) {
	for _, text := range []string{
		`{}`, ` {"a":1} `, "\t\r\n{\"a\":{\"b\":[1,2]}}\n", `null`, `[]`, `[{}]`, `"{}"`, `1`, `true`,
		`{"a":1,"a":2}`, `{"a":{"b":1,"b":2}}`, ``, ` `, `{`, `{}{}`, `{} x`, "{\"\xff\":1}", `{"\ud800":1}`,
	} {
		_, objErr := jsonObject([]byte(text))
		if err := checkObject([]byte(text)); (err == nil) != (objErr == nil) {
			t.Errorf("%q: checkObject %v, jsonObject %v", text, err, objErr)
		}
	}
}
