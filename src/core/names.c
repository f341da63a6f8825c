/* names - see names.h. SPDX-License-Identifier: MIT */
#include "core/names.h"

#include <string.h>

bool names_is_uid(const char *s)
{
    size_t n = 0;
    if (!s)
        return false;
    for (; s[n]; n++) {
        char c = s[n];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_' || c == '.'))
            return false;
    }
    return n >= 1 && n <= NAMES_MAX;
}

enum err names_check_uid(const char *s, const char *field, struct err_detail *d)
{
    if (names_is_uid(s))
        return ERR_OK;
    return err_set_field(d, ERR_INVAL, "INVALID_REQUEST", field,
                         "'%s' must be 1 to %d characters of a-z, A-Z, 0-9, '-', '_' and '.'",
                         field, NAMES_MAX);
}

enum err names_check_metadata(const json_t *v, const char *field, struct err_detail *d)
{
    if (!json_is_object(v))
        return err_set_field(d, ERR_INVAL, "INVALID_REQUEST", field,
                             "'%s' must be an object of strings", field);
    if (json_object_size(v) > NAMES_METADATA_MAX_KEYS)
        return err_set_field(d, ERR_INVAL, "INVALID_REQUEST", field, "'%s' has more than %d keys",
                             field, NAMES_METADATA_MAX_KEYS);
    size_t total = 0;
    const char *k;
    json_t *val;
    json_object_foreach((json_t *)v, k, val)
    {
        if (!json_is_string(val))
            return err_set_field(d, ERR_INVAL, "INVALID_REQUEST", field,
                                 "'%s' must be an object of strings", field);
        total += strlen(k) + json_string_length(val);
    }
    if (total > NAMES_METADATA_MAX_BYTES)
        return err_set_field(d, ERR_INVAL, "INVALID_REQUEST", field, "'%s' is larger than %d bytes",
                             field, NAMES_METADATA_MAX_BYTES);
    return ERR_OK;
}
