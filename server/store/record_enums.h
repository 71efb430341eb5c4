// How the record stores keep proto enums: by value name ("ORIGIN_OUTBOUND"),
// so the tables read well in sqlite3 or psql; a value the schema does not
// know (open proto3 enums) by its number.
#pragma once

#include <string>

#include "google/protobuf/descriptor.h"

namespace linebridge {

std::string EnumName(const google::protobuf::EnumDescriptor* descriptor, int value);
int EnumValue(const google::protobuf::EnumDescriptor* descriptor, const std::string& text);

}  // namespace linebridge
