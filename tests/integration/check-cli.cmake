if(TARGET spoofwatch-check)
  sw_add_script_test(test-check-cli
    COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/test-check-cli.sh $<TARGET_FILE:spoofwatch-check>)
endif()

if(TARGET spoofwatch-check)
  sw_add_script_test(test-check-nsd
    COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/test-check-nsd.sh $<TARGET_FILE:spoofwatch-check>
    TIMEOUT 120 LABELS integration)
endif()
