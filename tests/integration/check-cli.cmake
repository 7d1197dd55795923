if(TARGET spoofwatch-check)
  sw_add_script_test(test-check-cli
    COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/test-check-cli.sh $<TARGET_FILE:spoofwatch-check>)
endif()
