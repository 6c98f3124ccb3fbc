# Writes OUTPUT, a C++ file defining kinesd::api::embedded_model_text() that returns INPUT's text.
file(READ ${INPUT} content HEX)
string(LENGTH "${content}" hex_length)
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${content}")
math(EXPR byte_count "${hex_length} / 2")
file(WRITE ${OUTPUT}
"// Generated from the API model by cmake/embed_text.cmake; do not edit.\n"
"#include <string_view>\n"
"namespace kinesd::api {\n"
"static const char model_bytes[] = {${bytes} 0};\n"
"std::string_view embedded_model_text() { return {model_bytes, ${byte_count}}; }\n"
"}  // namespace kinesd::api\n")
